// Test-side datagrams for the model units: IKE messages built byte by byte
// and parsed with the real parser, ESP and keepalives.
#pragma once

#include <cstdint>
#include <vector>

#include "tap/datagram.h"
#include "tap/ike_parse.h"

namespace natt_test {

struct IkeBuilder {
    natt::IkeMessage msg;
    std::vector<uint8_t> bytes;
    uint32_t frame = 0;
    int64_t time_ns = 1000000000ll;
    // The side of its SA (IkeSa::sides) the datagram is on. The Analyzer sets
    // Datagram::side itself; tests of the units below it set it here.
    uint8_t side = 0;

    natt::Datagram base(const natt::Endpoint& src, const natt::Endpoint& dst, int64_t step_ns = 10000000) {
        natt::Datagram d;
        d.frame = ++frame;
        time_ns += step_ns;
        d.time_ns = time_ns;
        d.side = side;
        d.src = src;
        d.dst = dst;
        d.pair_role = natt::PairRole::Natt;
        return d;
    }

    // An IKE message: IKEv1 (version 0x10) with one clear payload (main
    // mode) or an encrypted body, or IKEv2 (0x20, flags as given) with one
    // 16-byte vendor ID. fill varies the body bytes.
    natt::Datagram ike(const natt::Endpoint& src, const natt::Endpoint& dst, uint64_t icky, uint64_t rcky,
                       uint8_t exchange, uint32_t msgid, uint8_t version = 0x10, uint8_t flags = 0,
                       uint8_t fill = 0, bool floated = false) {
        const bool v1_encrypted = version == 0x10 && exchange != natt::kExIdentityProtection;
        bytes.assign(28 + 20, 0);
        for (int i = 0; i < 8; ++i) {
            bytes[i] = static_cast<uint8_t>(icky >> (56 - 8 * i));
            bytes[8 + i] = static_cast<uint8_t>(rcky >> (56 - 8 * i));
        }
        bytes[16] = v1_encrypted ? 8 : (version == 0x10 ? 13 : 43);  // HASH / Vendor ID
        bytes[17] = version;
        bytes[18] = exchange;
        bytes[19] = static_cast<uint8_t>(flags | (v1_encrypted ? 1 : 0));
        for (int i = 0; i < 4; ++i) bytes[20 + i] = static_cast<uint8_t>(msgid >> (24 - 8 * i));
        bytes[27] = static_cast<uint8_t>(bytes.size());
        bytes[31] = 20;
        for (size_t i = 32; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + fill);
        natt::parse_ike_message(bytes.data(), bytes.size(), natt::Strictness::Port, &msg);
        natt::Datagram d = base(src, dst);
        d.kind = floated ? natt::DatagramKind::FloatedIke : natt::DatagramKind::PlainIke;
        d.ike = &msg;
        d.ike_bytes = bytes.data();
        d.ike_len = static_cast<uint32_t>(bytes.size());
        d.udp_payload_len = d.ike_len + (floated ? 4 : 0);
        return d;
    }

    natt::Datagram esp(const natt::Endpoint& src, const natt::Endpoint& dst, uint32_t spi, uint32_t seq) {
        natt::Datagram d = base(src, dst);
        d.kind = natt::DatagramKind::EspInUdp;
        d.esp_spi = spi;
        d.esp_seq = seq;
        d.udp_payload_len = 100;
        return d;
    }

    natt::Datagram keepalive(const natt::Endpoint& src, const natt::Endpoint& dst, int64_t step_ns = 10000000) {
        natt::Datagram d = base(src, dst, step_ns);
        d.kind = natt::DatagramKind::Keepalive;
        d.udp_payload_len = 1;
        return d;
    }
};

}  // namespace natt_test
