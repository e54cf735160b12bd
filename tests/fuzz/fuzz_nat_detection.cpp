// libFuzzer harness (b): NAT-D hashing and verification, the NAT verdict, and
// vendor-ID classification (tap/nat_detection.h, tap/nat_analysis.h).
// The input chooses hash algorithms, cookies, endpoints, observations and
// hashes; some hashes are computed over chosen endpoints (optionally with the
// address or port zeroed) so that every NatDMatch outcome is reachable.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tests/unit/gcrypt_init.h"
#include "tap/ike_sa.h"
#include "tap/limits.h"
#include "tap/nat_analysis.h"
#include "tap/nat_detection.h"

using namespace natt;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_nat_detection: invariant violated: %s\n", what);
    std::abort();
}

Endpoint make_endpoint(FuzzedDataProvider& in) {
    const uint8_t fam = in.ConsumeIntegralInRange<uint8_t>(0, 3);
    uint8_t a[16] = {};
    const auto raw = in.ConsumeBytes<uint8_t>(fam == 1 ? 16 : 4);
    if (!raw.empty()) std::memcpy(a, raw.data(), raw.size());
    const uint16_t port = in.ConsumeIntegral<uint16_t>();
    if (fam == 0) return Endpoint();  // family 0: "unknown"
    return Endpoint::from_bytes(fam == 1 ? 6 : 4, a, port);
}

volatile uint64_t g_sink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    natt_test::init_gcrypt();
    FuzzedDataProvider in(data, size);

    // Vendor IDs: a few length-prefixed bodies, then the rest of a chunk.
    std::vector<NattMethod> methods[3];
    const unsigned n_vid = in.ConsumeIntegralInRange<unsigned>(0, 6);
    for (unsigned i = 0; i < n_vid; ++i) {
        const auto vid = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 64));
        const VendorIdInfo info = classify_vendor_id(vid.empty() ? nullptr : vid.data(), vid.size());
        if (info.name) g_sink += std::strlen(info.name);
        (void)natt_method_name(info.method);
        (void)natd_payload_type_for(info.method);
        methods[1 + (i & 1)].push_back(info.method);
    }
    for (int d = 1; d <= 2; ++d) {
        const unsigned extra = in.ConsumeIntegralInRange<unsigned>(0, 3);
        for (unsigned i = 0; i < extra; ++i)
            methods[d].push_back(static_cast<NattMethod>(in.ConsumeIntegralInRange<uint8_t>(0, 20)));
    }
    const NattMethod agreed =
        agreed_method(methods[1].data(), methods[1].size(), methods[2].data(), methods[2].size());
    (void)natt_method_name(agreed);

    // Endpoint pools for the two peers (as seen on both sides of a NAT).
    std::vector<Endpoint> eps[3];
    for (int d = 1; d <= 2; ++d) {
        const unsigned n = in.ConsumeIntegralInRange<unsigned>(0, 4);
        for (unsigned i = 0; i < n; ++i) {
            eps[d].push_back(make_endpoint(in));
            char buf[64];
            eps[d].back().format(buf, sizeof buf);
            g_sink += eps[d].back().to_string().size();
        }
    }
    auto pick = [&](int d) -> Endpoint {
        if (eps[d].empty()) return make_endpoint(in);
        return eps[d][in.ConsumeIntegralInRange<size_t>(0, eps[d].size() - 1)];
    };

    NatState st;
    st.v1_hash = in.ConsumeIntegralInRange<uint8_t>(0, 8);
    st.v1_hash_seen = in.ConsumeBool();
    st.methods[1] = methods[1];
    st.methods[2] = methods[2];
    (void)st.agreed();

    const uint64_t icky = in.ConsumeBool() ? 0x0102030405060708ull : in.ConsumeIntegral<uint64_t>();
    const uint64_t rcky = in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint64_t>();
    const unsigned n_obs = in.ConsumeIntegralInRange<unsigned>(0, kMaxNatDObservations);
    for (unsigned o = 0; o < n_obs && in.remaining_bytes() > 0; ++o) {
        NatDObservation obs;
        obs.frame = o + 1;
        obs.dir = static_cast<Direction>(in.ConsumeIntegralInRange<uint8_t>(0, 2));
        // The side of the SA it was seen on: 0-3, or one past kMaxSidesPerSa.
        const uint8_t side = in.ConsumeIntegralInRange<uint8_t>(0, kMaxSidesPerSa);
        obs.side = side < kMaxSidesPerSa ? side : kUnlistedSide;
        obs.v2 = in.ConsumeBool();
        obs.payload_type = in.PickValueInArray<uint8_t>({20, 130, 15});
        const int sender = obs.dir == Direction::FromResponder ? 2 : 1;
        obs.src = pick(sender);
        obs.dst = pick(3 - sender);
        obs.ispi = icky;
        obs.rspi = in.ConsumeBool() ? rcky : in.ConsumeIntegral<uint64_t>();
        obs.n = in.ConsumeIntegralInRange<uint8_t>(0, kMaxNatDPerMessage);
        for (uint8_t k = 0; k < obs.n; ++k) {
            NatDHash& h = obs.hashes[k];
            h.is_source = in.ConsumeBool();
            h.offset = in.ConsumeIntegral<uint16_t>();
            const uint8_t how = in.ConsumeIntegralInRange<uint8_t>(0, 4);
            const uint8_t alg = obs.v2 ? static_cast<uint8_t>(kHashSha1) : st.v1_hash;
            if (how == 0) {  // raw bytes
                const auto raw = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, kMaxNatDHashLen));
                obs.set_bytes(h, raw.data(), raw.size());
            } else {  // computed over some endpoint, maybe zeroed
                Endpoint ep = how == 1 ? (h.is_source ? obs.src : obs.dst) : pick(in.ConsumeBool() ? 1 : 2);
                if (how == 3) std::memset(ep.addr, 0, sizeof ep.addr);
                if (how == 4) ep.port = 0;
                const size_t want = natd_hash_len(alg);
                if (want > kMaxNatDHashLen) fail("natd_hash_len beyond kMaxNatDHashLen");
                uint8_t bytes[kMaxNatDHashLen];
                const size_t n = natd_hash(alg, obs.ispi, obs.rspi, ep, bytes);
                if (n != 0 && n != want) fail("natd_hash length differs from natd_hash_len");
                if (n && in.ConsumeBool()) bytes[in.ConsumeIntegralInRange<size_t>(0, n - 1)] ^= 1;
                obs.set_bytes(h, bytes, n);
            }
        }
        NatUnverifiable why = NatUnverifiable::None;
        verify_natd(obs, st.v1_hash, st.v1_hash_seen, eps[1], eps[2], &why);
        (void)nat_unverifiable_text(why);
        for (uint8_t k = 0; k < obs.n; ++k) (void)natd_match_text(obs.hashes[k].result);
        if (why != NatUnverifiable::None) st.unverifiable = why;
        st.observations.push_back(obs);
        evaluate_nat(st);
        char words[kNatVerdictWordsMax];
        nat_verdict_words(st.view(), words, sizeof words);
        if (NatVerdictView::unpack(st.view().pack()).pack() != st.view().pack()) __builtin_trap();
        g_sink += st.verdict_known();
    }

    // Whatever is left: one more vendor ID and a raw NAT-D hash computation.
    const auto rest = in.ConsumeRemainingBytes<uint8_t>();
    const VendorIdInfo info = classify_vendor_id(rest.empty() ? nullptr : rest.data(), rest.size());
    g_sink += static_cast<uint64_t>(info.method) + info.microsoft_version;
    for (uint8_t alg = 0; alg <= 7; ++alg) {
        uint8_t out[kMaxNatDHashLen + 16];
        std::memset(out, 0xAA, sizeof out);
        const size_t n = natd_hash(alg, icky, rcky, eps[1].empty() ? Endpoint() : eps[1][0], out);
        if (n > kMaxNatDHashLen) fail("natd_hash wrote beyond kMaxNatDHashLen");
        for (size_t i = kMaxNatDHashLen; i < sizeof out; ++i)
            if (out[i] != 0xAA) fail("natd_hash wrote past the hash");
    }
    return 0;
}
