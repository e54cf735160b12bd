// natt's worst-case model memory at a given natt.max_sas, computed from the
// budgets of tap/limits.h and the structures' sizes in this build (project
// issue 17: the README's worst-case figure). Every per-SA cap and
// whole-file budget full at once; FlatMap tables just grown (capacity the
// next power of two over 4/3 of the entries, twice that at worst), vectors
// at their capacity, glibc's 16-byte chunk rounding plus 8 bytes per
// allocation. Not a measurement: bench/memory-bound measures real captures.
//
//   g++ -std=c++17 -O1 -I. bench/worst-case.cpp -o /tmp/worst-case && /tmp/worst-case [MAX_SAS]
#include <cstdio>
#include <cstdlib>

#include "tap/analyzer.h"

using namespace natt;

namespace {

double chunk(double bytes) { return bytes <= 0 ? 0 : (static_cast<size_t>(bytes + 8 + 15) / 16) * 16; }

template <typename K, typename V>
double flat_map(double entries) {
    struct PlainSlot {
        uint32_t tag;
        K key;
        V value;
    };
    const size_t align = sizeof(PlainSlot) > 48 && sizeof(PlainSlot) <= 64 ? 64 : alignof(PlainSlot);
    const size_t slot = (sizeof(PlainSlot) + align - 1) / align * align;
    double cap = 16;
    while (entries > cap * 3 / 4) cap *= 2;
    return cap * slot;
}

double total = 0;
void line(const char* what, double bytes) {
    total += bytes;
    std::printf("%-62s %9.1f MB\n", what, bytes / 1048576.0);
}

}  // namespace

int main(int argc, char** argv) {
    const double m = argc > 1 ? std::atof(argv[1]) : static_cast<double>(kDefaultMaxSas);
    std::printf("natt.max_sas %.0f: every budget of tap/limits.h full\n", m);
    // Per SA: the record (a std::deque of elements > 512 B allocates each
    // alone) and what hangs off it within the per-SA caps.
    line("SA records (IkeSa)", m * chunk(sizeof(IkeSa)));
    line("other sides of a NAT (sides 2-4 of an SA)", m * chunk(SaSides::other_sides_bytes()));
    line("endpoint aliases (8 per SA)", m * chunk(kMaxAliasesPerSa * sizeof(Alias)));
    line("two-sided NAT mappings (16 per SA)", m * chunk(kMaxNatMappingsPerSa * sizeof(NatMapping)));
    line("keepalive interval samples (64 per direction)", m * 2 * chunk(kMaxKeepaliveSamples * sizeof(int64_t)));
    line("NAT-T methods announced (32 per peer, 2 peers)", m * 2 * chunk(kMaxMethodsPerPeer * sizeof(NattMethod)));
    // Whole-file budgets (vectors at up to twice their size by doubling).
    line("IKE message records (32 x max_sas)", 2 * m * kRecordsPerSa * sizeof(MessageRecord));
    line("child exchanges (8 x max_sas)", 2 * m * kChildrenPerSa * sizeof(ChildExchange));
    line("  their msgid index", flat_map<uint64_t, uint32_t>(m * kChildrenPerSa));
    line("NAT-D observations (4 x max_sas, 4 hashes of 64 B each)",
         2 * m * kNatDPerSa * sizeof(NatDObservation) + m * kNatDPerSa * chunk(kMaxNatDPerMessage * 64));
    line("ESP SPI statistics (16 x max_sas)", 2 * m * kEspRecordsPerSa * sizeof(EspSpiStats));
    line("  (port pair, SPI) records (16 x max_sas)", flat_map<EspKey, EspRef>(m * kEspRecordsPerSa));
    line("  SPIs followed across pairs (4 x max_sas)", flat_map<uint32_t, EspTracker::SpiOwner>(m * kSpiOwnersPerSa));
    // std::unordered_map node (next pointer, key, value, cached hash) plus its bucket.
    line("  ESP not yet credible (4 x max_sas, unordered_map)",
         m * kEvidencePerSa * (chunk(8 + sizeof(EspKey) + 8 + 8) + 8));
    line("port-pair roles (4 x max_sas)", flat_map<PortPair, PairRole>(m * kPairsPerSa));
    line("port pair -> SA (16 x max_sas) and its slot array",
         flat_map<PortPair, uint32_t>(m * kPortPairsPerSa) + 2 * m * kPortPairsPerSa * 4);
    line("floated-to port pairs (16 x max_sas)", flat_map<PortPair, SaList>(m * kPortPairsPerSa));
    line("floated SAs by host pair (8 x max_sas)", flat_map<PortPair, SaList>(m * kHostPairsPerSa));
    line("SA by host pair (8 x max_sas)", flat_map<PortPair, uint32_t>(m * kHostPairsPerSa));
    line("keepalive flows (8 x max_sas)", flat_map<Flow, int64_t[2]>(m * kKeepaliveFlowsPerSa));
    line("initiator sockets (2 x max_sas)", flat_map<Endpoint, int64_t[2]>(m * kSocketsPerSa));
    line("cookie indexes (pairs and initiator cookies, 1 x max_sas each)",
         flat_map<CookiePair, SaList>(m) + flat_map<uint64_t, SaList>(m));
    line("recent IKE messages for twins (fixed)", static_cast<double>(kRecentMessages) * kRecentMessageBytes);
    const double model = total;
    std::printf("%-62s %9.1f MB\n", "model", model / 1048576.0);
    // The SA table's row in tshark and the GUI (a Wireshark structure: 18
    // items of 24 B and ~14 heap strings; ~1 KB measured per row).
    line("-z natt,sa / GUI table rows (~1 KB each, measured)", m * 1024);
    std::printf("%-62s %9.1f MB\n", "total (without the per-frame stores)", total / 1048576.0);
    return 0;
}
