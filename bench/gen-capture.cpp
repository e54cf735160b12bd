// gen-capture: writes a large, realistic NAT-T capture by replaying the lab's
// REAL exchanges (IKEv1 main mode + quick mode, IKEv2 IKE_SA_INIT/IKE_AUTH,
// DPD / INFORMATIONAL, NAT-T keepalives, ESP-in-UDP) taken from lab captures
// read with libpcap, and writing with pcap_dump.
//
//   gen-capture -o OUT.pcap -n FRAMES -s SAS [--seed N] TEMPLATE.pcap...
//   gen-capture --hostile -o OUT.pcap -c COOKIE_PAIRS [--seed N] TEMPLATE.pcap...
//   gen-capture --replay KIND -o OUT.pcap -c REPLAYS [--seed N] TEMPLATE.pcap...
//
// --hostile writes what an attacker or a scanner produces instead (see
// hostile() below): distinct IKE cookie pairs from random ip:ports, keepalives
// and ESP-in-UDP from random ip:ports, built from the same template packets.
// --replay KIND (issue 17) writes the healthy SAs of the first template, then
// replays of its first SA from ever new sources (see replay() below): its
// floated IKE message + a keepalive, its ESP SPI, or keepalives from its
// address on new ports.
//
// Every generated tunnel (one IKE SA with one CHILD_SA) copies one tunnel of
// a template capture and gets: fresh IKE cookies (ispi/rspi rewritten in the
// IKE header; NAT-D hashes therefore no longer verify, which is fine), fresh
// ESP SPIs and ESP sequence numbers, a client address and NAT-mapped source
// ports. The simulated NAT is N:1 like Linux masquerade: many clients share a
// few outside addresses; on each address the first client keeps 500/4500,
// the others get 500 remapped into 1-511 and 4500 into 1024-65535. A tenth of
// the clients are not behind a NAT (public 198.18.0.0/15 addresses, no
// keepalives). After the phase-1 / CHILD_SA setup each tunnel alternates
// ESP-in-UDP bursts (request + reply, like the lab's pings) with idle gaps
// carrying keepalives (every 5 s, NAT'ed clients only) and the template's
// later exchanges (DPD / INFORMATIONAL). All tunnels are interleaved in time
// order. IP lengths and header checksums are recomputed; UDP checksums are
// zeroed (legal on IPv4). Deterministic for a given seed and template set.
#include <pcap/pcap.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

struct Rng {  // splitmix64: small, fast, deterministic everywhere
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double unit() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
    double range(double a, double b) { return a + (b - a) * unit(); }
    uint32_t below(uint32_t n) { return (uint32_t)(next() % n); }
};

enum Kind : uint8_t { IKE, KEEPALIVE, ESP };

struct TPkt {                 // one template packet
    std::vector<uint8_t> data;  // whole frame, Ethernet first
    size_t ip_off = 0, udp_off = 0, pay_off = 0, pay_len = 0;
    Kind kind = IKE;
    size_t ike_off = 0;         // IKE header offset in the payload (0 or 4)
    bool from_client = false;
    double t = 0;               // seconds, relative to the tunnel's first frame
};

struct TTunnel {              // one IKE SA of a template capture
    uint32_t client_ip = 0, server_ip = 0;
    uint16_t client_ike_port = 0, client_natt_port = 0;
    uint8_t ispi[8] = {}, rspi[8] = {};
    double t0 = -1;
    std::vector<TPkt> setup;                   // IKE before its first ESP
    std::vector<std::vector<TPkt>> exchanges;  // later IKE exchanges (DPD, ...)
    int esp_c2s = -1, esp_s2c = -1, keepalive = -1;  // indexes into pool
    std::vector<TPkt> pool;
    uint32_t spi_c2s = 0, spi_s2c = 0;
    std::string from;
};

uint16_t rd16(const uint8_t* p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t rd32(const uint8_t* p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
void wr16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
void wr32(uint8_t* p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

bool is_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

// Parses Ethernet (optionally one VLAN tag) / IPv4 (unfragmented) / UDP.
bool parse(TPkt& p) {
    const std::vector<uint8_t>& d = p.data;
    if (d.size() < 14) return false;
    size_t off = 12;
    uint16_t et = rd16(&d[off]);
    if (et == 0x8100) { off += 4; if (d.size() < off + 2) return false; et = rd16(&d[off]); }
    if (et != 0x0800) return false;
    off += 2;
    if (d.size() < off + 20) return false;
    const uint8_t* ip = &d[off];
    size_t ihl = (ip[0] & 0x0f) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17) return false;
    if (rd16(ip + 6) & 0x3fff) return false;  // fragment
    size_t iplen = rd16(ip + 2);
    if (d.size() < off + iplen || iplen < ihl + 8) return false;
    p.ip_off = off;
    p.udp_off = off + ihl;
    p.pay_off = p.udp_off + 8;
    size_t ulen = rd16(&d[p.udp_off + 4]);
    if (ulen < 8 || p.udp_off + ulen > off + iplen) return false;
    p.pay_len = ulen - 8;
    p.data.resize(p.pay_off + p.pay_len);  // drop Ethernet padding
    return true;
}

const uint32_t kNoTunnel = ~0u;

std::vector<TTunnel> load_template(const char* path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* pc = pcap_open_offline(path, err);
    if (!pc) { fprintf(stderr, "gen-capture: %s: %s\n", path, err); exit(1); }
    if (pcap_datalink(pc) != DLT_EN10MB) { fprintf(stderr, "gen-capture: %s: not Ethernet\n", path); exit(1); }
    std::vector<TTunnel> tunnels;
    std::vector<std::pair<double, TPkt>> non_ike;  // assigned after all IKE is known
    struct pcap_pkthdr* h;
    const u_char* bytes;
    while (pcap_next_ex(pc, &h, &bytes) == 1) {
        if (h->caplen != h->len) continue;
        TPkt p;
        p.data.assign(bytes, bytes + h->caplen);
        if (!parse(p)) continue;
        double t = h->ts.tv_sec + h->ts.tv_usec / 1e6;
        const uint8_t* ip = &p.data[p.ip_off];
        const uint8_t* udp = &p.data[p.udp_off];
        const uint8_t* pay = &p.data[p.pay_off];
        uint16_t sp = rd16(udp), dp = rd16(udp + 2);
        bool to_server = dp == 500 || dp == 4500;
        bool from_server = sp == 500 || sp == 4500;
        if (!to_server && !from_server) continue;
        uint16_t sport = to_server ? dp : sp;
        if (sport == 500) {
            p.kind = IKE; p.ike_off = 0;
        } else if (p.pay_len == 1 && pay[0] == 0xff) {
            p.kind = KEEPALIVE;
        } else if (p.pay_len >= 4 && is_zero(pay, 4)) {
            p.kind = IKE; p.ike_off = 4;
        } else if (p.pay_len >= 8) {
            p.kind = ESP;
        } else continue;
        if (p.kind == IKE && p.pay_len < p.ike_off + 28) continue;
        // Direction: the server is the side on 500/4500 that answered the
        // first message; with both sides on 4500 use the known tunnels.
        if (p.kind != IKE) { non_ike.emplace_back(t, std::move(p)); continue; }
        const uint8_t* ike = pay + p.ike_off;
        int ti = -1;
        for (size_t i = 0; i < tunnels.size(); i++)
            if (!memcmp(tunnels[i].ispi, ike, 8)) { ti = (int)i; break; }
        if (ti < 0) {  // new IKE SA: first message comes from the client
            if (!is_zero(ike + 8, 8)) continue;  // joined mid-SA: skip
            TTunnel tt;
            memcpy(tt.ispi, ike, 8);
            tt.client_ip = rd32(ip + 12);
            tt.server_ip = rd32(ip + 16);
            tt.client_ike_port = sp;
            tt.t0 = t;
            tt.from = path;
            tunnels.push_back(tt);
            ti = (int)tunnels.size() - 1;
        }
        TTunnel& tt = tunnels[ti];
        if (is_zero(tt.rspi, 8) && !is_zero(ike + 8, 8)) memcpy(tt.rspi, ike + 8, 8);
        p.from_client = rd32(ip + 12) == tt.client_ip;
        if (sport == 4500 && !tt.client_natt_port) tt.client_natt_port = p.from_client ? sp : dp;
        p.t = t - tt.t0;
        tt.pool.push_back(std::move(p));
    }
    pcap_close(pc);
    // Assign keepalives and ESP to tunnels by the client's floated port.
    std::vector<double> first_data(tunnels.size(), 1e300);
    std::vector<TPkt> data_pkts;
    for (auto& e : non_ike) {
        TPkt& p = e.second;
        const uint8_t* ip = &p.data[p.ip_off];
        const uint8_t* udp = &p.data[p.udp_off];
        uint16_t sp = rd16(udp), dp = rd16(udp + 2);
        for (size_t i = 0; i < tunnels.size(); i++) {
            TTunnel& tt = tunnels[i];
            bool c2s = rd32(ip + 12) == tt.client_ip && sp == tt.client_natt_port && rd32(ip + 16) == tt.server_ip;
            bool s2c = rd32(ip + 16) == tt.client_ip && dp == tt.client_natt_port && rd32(ip + 12) == tt.server_ip;
            if (!c2s && !s2c) continue;
            first_data[i] = std::min(first_data[i], e.first);
            p.from_client = c2s;
            p.t = e.first - tt.t0;
            uint32_t spi = p.kind == ESP ? rd32(&p.data[p.pay_off]) : 0;
            if (p.kind == KEEPALIVE && c2s && tt.keepalive < 0) {
                tt.keepalive = (int)tt.pool.size(); tt.pool.push_back(p);
            } else if (p.kind == ESP && c2s && tt.esp_c2s < 0) {
                tt.esp_c2s = (int)tt.pool.size(); tt.spi_c2s = spi; tt.pool.push_back(p);
            } else if (p.kind == ESP && s2c && tt.esp_s2c < 0) {
                tt.esp_s2c = (int)tt.pool.size(); tt.spi_s2c = spi; tt.pool.push_back(p);
            }
            break;
        }
    }
    // Split IKE into setup (before the first data packet) and later exchanges
    // (groups of IKE packets less than 0.5 s apart).
    std::vector<TTunnel> out;
    for (size_t i = 0; i < tunnels.size(); i++) {
        TTunnel& tt = tunnels[i];
        double cut = first_data[i] - tt.t0;
        std::vector<TPkt> rest;
        for (auto& p : tt.pool) {
            if (p.kind != IKE) { rest.push_back(p); continue; }
            if (p.t < cut) { tt.setup.push_back(p); continue; }
            if (tt.exchanges.empty() || p.t - tt.exchanges.back().back().t > 0.5) tt.exchanges.emplace_back();
            tt.exchanges.back().push_back(p);
        }
        // re-index the data packets in the reduced pool
        int kc = -1, ec = -1, es = -1;
        std::vector<TPkt> pool;
        for (auto& p : rest) {
            if (p.kind == KEEPALIVE && kc < 0) kc = (int)pool.size();
            else if (p.kind == ESP && p.from_client && ec < 0) ec = (int)pool.size();
            else if (p.kind == ESP && !p.from_client && es < 0) es = (int)pool.size();
            else continue;
            pool.push_back(p);
        }
        tt.pool = pool; tt.keepalive = kc; tt.esp_c2s = ec; tt.esp_s2c = es;
        for (auto& ex : tt.exchanges) {  // exchange times relative to its start
            double b = ex.front().t;
            for (auto& p : ex) p.t -= b;
        }
        if (tt.setup.empty() || tt.esp_c2s < 0 || tt.esp_s2c < 0 || !tt.client_natt_port) {
            fprintf(stderr, "gen-capture: %s: skipping an incomplete IKE SA\n", path);
            continue;
        }
        out.push_back(tt);
    }
    return out;
}

struct Tunnel {  // one generated tunnel
    const TTunnel* tpl;
    uint32_t client_ip;
    uint16_t ike_port, natt_port;
    bool natted;
    uint8_t ispi[8], rspi[8];
    uint32_t spi_c2s, spi_s2c;
    uint32_t seq_c2s = 0, seq_s2c = 0;
};

struct Event {
    int64_t t_ns;
    uint32_t tunnel;
    int16_t exchange;  // -1 setup, -2 data pool, >=0 exchange index
    uint16_t index;
    bool operator<(const Event& o) const {
        if (t_ns != o.t_ns) return t_ns < o.t_ns;
        if (tunnel != o.tunnel) return tunnel < o.tunnel;
        if (exchange != o.exchange) return exchange < o.exchange;
        return index < o.index;
    }
};

void ip_checksum(uint8_t* ip) {
    size_t ihl = (ip[0] & 0x0f) * 4u;
    ip[10] = ip[11] = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i < ihl; i += 2) sum += rd16(ip + i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    wr16(ip + 10, (uint16_t)~sum);
}

// What emit() changes in a template packet. The client is the side that is
// not the template's server (the side on 500/4500 that answered).
struct Rewrite {
    uint32_t client_ip = 0;
    uint16_t client_port = 0;
    uint32_t server_ip = 0;    // 0: keep the template's
    uint16_t server_port = 0;  // 0: keep the template's
    const uint8_t* tpl_ispi = nullptr;  // the template SA's cookies, replaced where they appear
    const uint8_t* tpl_rspi = nullptr;
    const uint8_t* ispi = nullptr;
    const uint8_t* rspi = nullptr;
    uint32_t spi = 0, seq = 0;  // ESP
};

// The packet builder of both modes and the only pcap writer: copies a
// template packet, applies a Rewrite, fixes IP total length, IP ID, IP header
// checksum and UDP length (UDP checksum zeroed, legal on IPv4), and writes
// it with pcap_dump.
struct Writer {
    pcap_t* dead = nullptr;
    pcap_dumper_t* dump = nullptr;
    std::vector<uint8_t> buf;
    uint16_t ipid = 0;
    uint64_t count = 0, n_ike = 0, n_ka = 0, n_esp = 0;
    static constexpr int64_t kBaseNs = 1767225600LL * 1000000000LL;  // 2026-01-01 00:00:00 UTC

    bool open(const char* path) {
        dead = pcap_open_dead(DLT_EN10MB, 65535);
        dump = pcap_dump_open(dead, path);
        if (!dump) fprintf(stderr, "gen-capture: %s: %s\n", path, pcap_geterr(dead));
        return dump != nullptr;
    }
    void close() {
        pcap_dump_close(dump);
        pcap_close(dead);
    }
    void emit(const TPkt& p, int64_t t_ns, const Rewrite& r) {
        buf = p.data;
        uint8_t* ip = &buf[p.ip_off];
        uint8_t* udp = &buf[p.udp_off];
        uint8_t* pay = &buf[p.pay_off];
        uint8_t* cip = ip + (p.from_client ? 12 : 16);
        uint8_t* sip = ip + (p.from_client ? 16 : 12);
        uint8_t* cport = udp + (p.from_client ? 0 : 2);
        uint8_t* sport = udp + (p.from_client ? 2 : 0);
        wr32(cip, r.client_ip);
        wr16(cport, r.client_port);
        if (r.server_ip) wr32(sip, r.server_ip);
        if (r.server_port) wr16(sport, r.server_port);
        wr16(ip + 2, (uint16_t)(buf.size() - p.ip_off));
        wr16(ip + 4, ipid++);
        ip_checksum(ip);
        wr16(udp + 4, (uint16_t)(8 + p.pay_len));
        wr16(udp + 6, 0);
        if (p.kind == IKE) {
            uint8_t* ike = pay + p.ike_off;
            if (!memcmp(ike, r.tpl_ispi, 8)) memcpy(ike, r.ispi, 8);
            if (!memcmp(ike + 8, r.tpl_rspi, 8) && !is_zero(ike + 8, 8)) memcpy(ike + 8, r.rspi, 8);
            n_ike++;
        } else if (p.kind == ESP) {
            wr32(pay, r.spi);
            wr32(pay + 4, r.seq);
            n_esp++;
        } else n_ka++;
        int64_t ns = kBaseNs + t_ns;
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(ns / 1000000000LL);
        h.ts.tv_usec = (suseconds_t)((ns % 1000000000LL) / 1000);
        h.caplen = h.len = (bpf_u_int32)buf.size();
        pcap_dump((u_char*)dump, &h, buf.data());
        count++;
    }
};

// The same IKE message behind the 4-byte non-ESP marker (RFC 3948), as
// sent to UDP 4500.
TPkt with_marker(const TPkt& p) {
    TPkt q = p;
    static const uint8_t marker[4] = {0, 0, 0, 0};
    q.data.insert(q.data.begin() + (std::ptrdiff_t)p.pay_off, marker, marker + 4);
    q.pay_len += 4;
    q.ike_off = 4;
    return q;
}

uint8_t ike_major(const TPkt& p) { return p.data[p.pay_off + p.ike_off + 17] >> 4; }

void put64(uint8_t* out, uint64_t v) {
    for (int k = 0; k < 8; k++) out[k] = (uint8_t)(v >> (8 * k));
    if (is_zero(out, 8)) out[0] = 1;
}

// --hostile: what an attacker or a scanner throws at a concentrator. PAIRS
// distinct IKE cookie pairs, each one phase-1 opener from a random ip:port to
// one of 4 responders (203.0.113.1-4; one opener in 10 goes to a random
// address instead, a scanner's probe): 50 % IKEv1 MM1 to 500, 20 % IKEv1 MM1
// floated to 4500 behind the non-ESP marker, 30 % IKEv2 IKE_SA_INIT to 500;
// a quarter of the sources use port 500 (4500 when floated), the rest a
// random port. Half of the openers get the responder's answer (MM2 /
// IKE_SA_INIT response) with a fresh responder cookie 0.5-5 ms later. Plus,
// per pair, one noise packet to a responder's 4500 from a random ip:port:
// a NAT-T keepalive (50 %) or ESP-in-UDP (50 %), the ESP being
//   - half: a random SPI (a scanner),
//   - a quarter: a replayed SPI, one of 16 seen at the start (spoofed replay),
//   - a quarter: a random SPI from one of those 16 seen mappings (SPI flood
//     on a known port pair; source ip:port fixed, so not "random ports").
// The 16 seed ESP flows open the capture, 4 packets each with rising
// sequence numbers (so that natt tracks them as ESP-only SAs). Sources are uniform over 1-223.x.x.x
// (one in 16.7 M repeats). Events are spread uniformly over PAIRS / 2000 s
// (~5000 frames/s) and sorted by time. Packets are the templates' IKEv1 MM1 /
// MM2, IKEv2 IKE_SA_INIT request / response, keepalive and client ESP packet.
struct HEvent {
    int64_t t_ns;
    uint32_t seq;  // creation order: a stable tie-break
    uint8_t what;
    uint8_t server;  // 0-3: a concentrator; 4: server_ip
    uint16_t client_port;
    uint32_t client_ip;
    uint32_t server_ip;
    uint64_t icookie, rcookie;
    uint32_t spi;
    bool operator<(const HEvent& o) const { return t_ns != o.t_ns ? t_ns < o.t_ns : seq < o.seq; }
};

enum HWhat : uint8_t { kMm1, kMm1Floated, kMm2, kMm2Floated, kV2Req, kV2Resp, kKeepalive, kEspScan, kEspReplay, kEspFlood, kEspSeed };

int hostile(const char* outpath, uint64_t pairs, uint64_t seed, const std::vector<TTunnel>& tpls) {
    const TTunnel* v1 = nullptr;
    const TTunnel* v2 = nullptr;
    for (const TTunnel& t : tpls) {
        const uint8_t m = ike_major(t.setup[0]);
        if (m == 1 && !v1) v1 = &t;
        if (m == 2 && !v2) v2 = &t;
    }
    if (!v1 || !v2) { fprintf(stderr, "gen-capture: --hostile needs an IKEv1 and an IKEv2 template\n"); return 2; }
    auto opener = [](const TTunnel& t) -> const TPkt& { return t.setup[0]; };
    auto answer = [](const TTunnel& t) -> const TPkt* {
        for (const TPkt& p : t.setup)
            if (!p.from_client && p.kind == IKE) return &p;
        return nullptr;
    };
    if (!opener(*v1).from_client || !answer(*v1) || !opener(*v2).from_client || !answer(*v2)) {
        fprintf(stderr, "gen-capture: --hostile: a template has no opener / answer\n");
        return 2;
    }
    const TPkt mm1 = opener(*v1), mm2 = *answer(*v1);
    const TPkt mm1f = with_marker(mm1), mm2f = with_marker(mm2);
    const TPkt v2req = opener(*v2), v2resp = *answer(*v2);
    if (v1->keepalive < 0) { fprintf(stderr, "gen-capture: --hostile: no keepalive in the IKEv1 template\n"); return 2; }
    const TPkt& ka = v1->pool[(size_t)v1->keepalive];
    const TPkt& esp = v1->pool[(size_t)v1->esp_c2s];

    Rng rng{seed};
    const double duration = std::max(10.0, (double)pairs / 2000.0);
    auto rand_ip = [&]() {
        uint32_t a = (1u + rng.below(223)) << 24 | (uint32_t)(rng.next() & 0xffffff);
        if ((a >> 24) == 127) a ^= 1u << 24;  // 126.x / 127.x -> not loopback
        return a;
    };
    auto rand_port = [&]() { return (uint16_t)(1024 + rng.below(64512)); };
    auto rand_spi = [&]() { uint32_t s; do s = (uint32_t)rng.next(); while (s < 256); return s; };
    auto at = [&](double s) { return (int64_t)std::llround(s * 1e9); };
    std::vector<HEvent> ev;
    ev.reserve(pairs * 5 / 2 + 16);
    uint32_t seq = 0;
    struct Seed { uint32_t ip; uint16_t port; uint8_t server; uint32_t spi; };
    std::vector<Seed> seeds(16);
    for (Seed& s : seeds) {
        s = Seed{rand_ip(), rand_port(), (uint8_t)rng.below(4), rand_spi()};
        const double t0 = rng.range(0, 0.4);
        for (int k = 0; k < 4; k++)
            ev.push_back(HEvent{at(t0 + 0.02 * k), seq++, kEspSeed, s.server, s.port, s.ip, 0, 0, 0, s.spi});
    }
    for (uint64_t i = 0; i < pairs; i++) {
        const uint32_t k = rng.below(10);
        const uint8_t what = k < 5 ? kMm1 : k < 7 ? kMm1Floated : kV2Req;
        HEvent e{};
        e.t_ns = at(rng.range(0.5, duration));
        e.seq = seq++;
        e.what = what;
        e.server = (uint8_t)rng.below(4);
        if (rng.below(10) == 0) { e.server = 4; e.server_ip = rand_ip(); }
        e.client_ip = rand_ip();
        e.client_port = rng.below(4) == 0 ? (what == kMm1Floated ? 4500 : 500) : rand_port();
        e.icookie = rng.next();
        e.rcookie = rng.next();
        ev.push_back(e);
        if (rng.below(2) == 0) {
            HEvent r = e;
            r.t_ns += at(rng.range(0.0005, 0.005));
            r.seq = seq++;
            r.what = what == kMm1 ? kMm2 : what == kMm1Floated ? kMm2Floated : kV2Resp;
            ev.push_back(r);
        }
        HEvent n{};
        n.t_ns = at(rng.range(0.5, duration));
        n.seq = seq++;
        n.server = (uint8_t)rng.below(4);
        n.client_ip = rand_ip();
        n.client_port = rand_port();
        if (rng.below(2) == 0) {
            n.what = kKeepalive;
        } else {
            const uint32_t m = rng.below(4);
            const Seed& s = seeds[rng.below(16)];
            if (m < 2) {
                n.what = kEspScan;
                n.spi = rand_spi();
            } else if (m == 2) {
                n.what = kEspReplay;
                n.spi = s.spi;
            } else {
                n.what = kEspFlood;
                n.client_ip = s.ip; n.client_port = s.port; n.server = s.server;
                n.spi = rand_spi();
            }
        }
        ev.push_back(n);
    }
    std::sort(ev.begin(), ev.end());

    Writer w;
    if (!w.open(outpath)) return 1;
    w.ipid = (uint16_t)rng.next();
    uint64_t n_what[11] = {};
    std::vector<uint32_t> esp_seq(seeds.size(), 0);
    uint64_t n_scan = 0;
    for (const HEvent& e : ev) {
        n_what[e.what]++;
        if (e.server == 4 && (e.what == kMm1 || e.what == kMm1Floated || e.what == kV2Req)) n_scan++;
        uint8_t ispi[8], rspi[8];
        put64(ispi, e.icookie);
        put64(rspi, e.rcookie);
        Rewrite r;
        r.client_ip = e.client_ip;
        r.client_port = e.client_port;
        r.server_ip = e.server < 4 ? (203u << 24) | (0u << 16) | (113u << 8) | (1u + e.server)  // 203.0.113.1-4
                                   : e.server_ip;
        r.ispi = ispi; r.rspi = rspi;
        r.spi = e.spi;
        r.seq = 1;
        const TPkt* p = nullptr;
        const TTunnel* t = v1;
        switch (e.what) {
            case kMm1: p = &mm1; r.server_port = 500; break;
            case kMm2: p = &mm2; r.server_port = 500; break;
            case kMm1Floated: p = &mm1f; r.server_port = 4500; break;
            case kMm2Floated: p = &mm2f; r.server_port = 4500; break;
            case kV2Req: p = &v2req; t = v2; r.server_port = 500; break;
            case kV2Resp: p = &v2resp; t = v2; r.server_port = 500; break;
            case kKeepalive: p = &ka; r.server_port = 4500; break;
            default: p = &esp; r.server_port = 4500; break;
        }
        if (e.what == kEspSeed || e.what == kEspFlood) {
            for (size_t i = 0; i < seeds.size(); i++)
                if (seeds[i].ip == e.client_ip && seeds[i].port == e.client_port) { r.seq = ++esp_seq[i]; break; }
        }
        r.tpl_ispi = t->ispi; r.tpl_rspi = t->rspi;
        w.emit(*p, e.t_ns, r);
    }
    w.close();
    fprintf(stderr,
            "gen-capture: %s: hostile, %" PRIu64 " cookie pairs, seed %" PRIu64 ": %" PRIu64 " frames over %.0f s: IKEv1 MM1 %" PRIu64
            " (+%" PRIu64 " floated; %" PRIu64 " openers to random responders), MM2 %" PRIu64 " (+%" PRIu64 " floated), IKE_SA_INIT %" PRIu64 " + %" PRIu64
            " responses, keepalives %" PRIu64 ", ESP-in-UDP %" PRIu64 " (random SPI %" PRIu64 ", replayed SPI %" PRIu64
            ", SPI flood on a seen mapping %" PRIu64 ", 16 seed flows %" PRIu64 " packets)\n",
            outpath, pairs, seed, w.count, duration, n_what[kMm1], n_what[kMm1Floated], n_scan, n_what[kMm2], n_what[kMm2Floated],
            n_what[kV2Req], n_what[kV2Resp], n_what[kKeepalive], w.n_esp, n_what[kEspScan], n_what[kEspReplay],
            n_what[kEspFlood], n_what[kEspSeed]);
    return 0;
}

// --replay KIND: what an attacker who saw one healthy exchange throws at a
// concentrator (project issue 17). The capture opens with the healthy SAs of
// the first template capture, byte for byte with their own addresses,
// cookies and SPIs (with the bench's templates: the two IKEv1 SAs of
// 01-two-clients-one-nat.outside.pcap, both behind NAT 198.51.100.1): each
// SA's setup at its template times, 4 ESP-in-UDP request/reply pairs, one
// keepalive and its later exchange (DPD). 60 s later (past a NAT's UDP
// timeout, so the SA's own mapping looks idle) come N replays aimed at the
// first of those SAs, spread uniformly over max(10 s, N / 2000 s), each
// from a new source:
//   ike-keepalive  the SA's first floated IKE message from its client (MM5
//                  behind the non-ESP marker, to the responder's 4500) and one
//                  NAT-T keepalive 1-20 ms later, both from a new random
//                  ip:port: 2 frames per replay (the capture of issue 17);
//   esp            one ESP-in-UDP packet of the SA's client SPI (sequence
//                  numbers rising where the SA's left off) from a new random
//                  ip:port to the responder's 4500: a known SPI on ever new
//                  port pairs;
//   keepalive      one NAT-T keepalive from the SA's own client address
//                  (the NAT's outside address) on a new random port to the
//                  responder's 4500: keepalives from new ports only (each one
//                  looks like a NAT rebinding).
// Random sources as in --hostile (addresses uniform over 1-223.x.x.x, ports
// 1024-65535; the keepalive family's ports differ from the SA's own).
enum class ReplayKind { IkeKeepalive, Esp, Keepalive };

int replay(const char* outpath, ReplayKind kind, uint64_t n, uint64_t seed, const std::vector<TTunnel>& tpls) {
    std::vector<const TTunnel*> healthy;
    for (const TTunnel& t : tpls)
        if (t.from == tpls[0].from) healthy.push_back(&t);
    const TTunnel& victim = *healthy[0];
    const TPkt* floated = nullptr;
    for (const TPkt& p : victim.setup)
        if (p.kind == IKE && p.ike_off == 4 && p.from_client) { floated = &p; break; }
    if (!floated)
        for (const auto& ex : victim.exchanges)
            for (const TPkt& p : ex)
                if (!floated && p.kind == IKE && p.ike_off == 4 && p.from_client) floated = &p;
    if (!floated || victim.keepalive < 0) {
        fprintf(stderr, "gen-capture: --replay: the first template SA has no floated IKE message from its client or no keepalive\n");
        return 2;
    }
    const TPkt& ka = victim.pool[(size_t)victim.keepalive];
    const TPkt& esp = victim.pool[(size_t)victim.esp_c2s];
    const uint8_t* fudp = &floated->data[floated->udp_off];
    const uint16_t server_natt_port = rd16(fudp + 2);  // the floated message's destination: the responder's NAT-T port

    Rng rng{seed};
    auto at = [](double s) { return (int64_t)std::llround(s * 1e9); };
    struct REvent {
        int64_t t_ns;
        uint32_t seq;
        const TPkt* p;
        const TTunnel* t;
        uint32_t client_ip;
        uint16_t client_port;
        uint32_t spi, esp_seq;
        bool operator<(const REvent& o) const { return t_ns != o.t_ns ? t_ns < o.t_ns : seq < o.seq; }
    };
    std::vector<REvent> ev;
    ev.reserve((size_t)n * 2 + 64);
    uint32_t seq = 0;
    // The healthy SAs, at their template times (relative to the first SA).
    double t0 = healthy[0]->t0, end = 0;
    std::vector<uint32_t> victim_seq(healthy.size(), 0);
    for (size_t k = 0; k < healthy.size(); k++) {
        const TTunnel& t = *healthy[k];
        const double base = t.t0 - t0;
        auto port_for = [&](const TPkt& p) {
            const uint8_t* udp = &p.data[p.udp_off];
            const uint16_t sport = p.from_client ? rd16(udp + 2) : rd16(udp);
            return sport == 500 ? t.client_ike_port : t.client_natt_port;
        };
        auto push = [&](double when, const TPkt& p, uint32_t spi = 0, uint32_t sq = 0) {
            ev.push_back(REvent{at(when), seq++, &p, &t, t.client_ip, port_for(p), spi, sq});
            end = std::max(end, when);
        };
        for (const TPkt& p : t.setup) push(base + p.t, p);
        double when = base + t.setup.back().t + 0.2;
        uint32_t sc = 0, ss = 0;
        for (int i = 0; i < 4; i++, when += 0.4) {
            push(when, t.pool[(size_t)t.esp_c2s], t.spi_c2s, ++sc);
            push(when + 0.001, t.pool[(size_t)t.esp_s2c], t.spi_s2c, ++ss);
        }
        if (t.keepalive >= 0) push(when + 5, t.pool[(size_t)t.keepalive]);
        if (!t.exchanges.empty())
            for (const TPkt& p : t.exchanges[0]) push(when + 10 + p.t, p);
        victim_seq[k] = sc;
    }
    // The replays.
    auto rand_ip = [&]() {
        uint32_t a = (1u + rng.below(223)) << 24 | (uint32_t)(rng.next() & 0xffffff);
        if ((a >> 24) == 127) a ^= 1u << 24;  // 126.x / 127.x -> not loopback
        return a;
    };
    auto rand_port = [&]() { return (uint16_t)(1024 + rng.below(64512)); };
    const double start = end + 60, duration = std::max(10.0, (double)n / 2000.0);
    uint32_t esp_seq = victim_seq[0];
    for (uint64_t i = 0; i < n; i++) {
        const double t = rng.range(start, start + duration);
        REvent e{at(t), seq++, nullptr, &victim, 0, 0, 0, 0};
        switch (kind) {
            case ReplayKind::IkeKeepalive: {
                e.client_ip = rand_ip();
                e.client_port = rand_port();
                e.p = floated;
                ev.push_back(e);
                REvent k = e;
                k.t_ns = at(t + rng.range(0.001, 0.02));
                k.seq = seq++;
                k.p = &ka;
                ev.push_back(k);
                break;
            }
            case ReplayKind::Esp:
                e.client_ip = rand_ip();
                e.client_port = rand_port();
                e.p = &esp;
                e.spi = victim.spi_c2s;
                ev.push_back(e);
                break;
            case ReplayKind::Keepalive:
                e.client_ip = victim.client_ip;
                do e.client_port = rand_port(); while (e.client_port == victim.client_natt_port || e.client_port == victim.client_ike_port);
                e.p = &ka;
                ev.push_back(e);
                break;
        }
    }
    std::sort(ev.begin(), ev.end());
    if (kind == ReplayKind::Esp)  // sequence numbers rise in time order, where the SA's left off
        for (REvent& e : ev)
            if (e.p == &esp && e.t_ns >= at(start)) e.esp_seq = ++esp_seq;

    Writer w;
    if (!w.open(outpath)) return 1;
    w.ipid = (uint16_t)rng.next();
    uint64_t replays_frames = 0;
    for (const REvent& e : ev) {
        Rewrite r;
        r.client_ip = e.client_ip;
        r.client_port = e.client_port;
        r.tpl_ispi = r.ispi = e.t->ispi;  // cookies and SPIs as in the template
        r.tpl_rspi = r.rspi = e.t->rspi;
        r.spi = e.spi;
        r.seq = e.esp_seq;
        if (e.t_ns >= at(start)) { r.server_port = server_natt_port; replays_frames++; }
        w.emit(*e.p, e.t_ns, r);
    }
    w.close();
    static const char* names[] = {"ike-keepalive", "esp", "keepalive"};
    fprintf(stderr,
            "gen-capture: %s: replay %s, %" PRIu64 " replays, seed %" PRIu64 ": %" PRIu64 " frames (%zu healthy SAs of %s in %" PRIu64
            " frames, then %" PRIu64 " replay frames over %.0f s from %.0f s): IKE %" PRIu64 ", keepalives %" PRIu64
            ", ESP-in-UDP %" PRIu64 "\n",
            outpath, names[(int)kind], n, seed, w.count, healthy.size(), tpls[0].from.c_str(), w.count - replays_frames,
            replays_frames, duration, start, w.n_ike, w.n_ka, w.n_esp);
    return 0;
}

void usage() {
    fprintf(stderr, "usage: gen-capture -o OUT.pcap -n FRAMES -s SAS [--seed N] [--duration SECONDS] TEMPLATE.pcap...\n"
                    "       gen-capture --hostile -o OUT.pcap -c COOKIE_PAIRS [--seed N] TEMPLATE.pcap...\n"
                    "       gen-capture --replay ike-keepalive|esp|keepalive -o OUT.pcap -c REPLAYS [--seed N] TEMPLATE.pcap...\n"
                    "         (healthy SAs of the first template, then REPLAYS replays of its first SA from new sources)\n");
    exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    const char* outpath = nullptr;
    uint64_t nframes = 0, nsas = 0, seed = 1, pairs = 0;
    double duration = 0;
    bool hostile_mode = false;
    int replay_kind = -1;
    std::vector<const char*> templates;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> const char* { if (i + 1 >= argc) usage(); return argv[++i]; };
        if (a == "-o") outpath = val();
        else if (a == "-n") nframes = strtoull(val(), nullptr, 10);
        else if (a == "-s") nsas = strtoull(val(), nullptr, 10);
        else if (a == "--seed") seed = strtoull(val(), nullptr, 10);
        else if (a == "--duration") duration = atof(val());
        else if (a == "--hostile") hostile_mode = true;
        else if (a == "-c") pairs = strtoull(val(), nullptr, 10);
        else if (a == "--replay") {
            const std::string k = val();
            replay_kind = k == "ike-keepalive" ? 0 : k == "esp" ? 1 : k == "keepalive" ? 2 : -2;
            if (replay_kind < 0) usage();
        }
        else if (a[0] == '-') usage();
        else templates.push_back(argv[i]);
    }
    if (!outpath || templates.empty()) usage();
    if (hostile_mode && replay_kind >= 0) usage();
    if (hostile_mode || replay_kind >= 0 ? !pairs : (!nframes || !nsas)) usage();
    std::vector<TTunnel> tpls;
    for (const char* t : templates) {
        std::vector<TTunnel> v = load_template(t);
        for (auto& x : v) {
            fprintf(stderr, "gen-capture: template %s: %zu setup, %zu later exchanges, keepalive %s, SPIs %08x/%08x\n",
                    x.from.c_str(), x.setup.size(), x.exchanges.size(), x.keepalive >= 0 ? "yes" : "no", x.spi_c2s, x.spi_s2c);
            tpls.push_back(std::move(x));
        }
    }
    if (tpls.empty()) { fprintf(stderr, "gen-capture: no usable IKE SA in the templates\n"); return 1; }
    if (hostile_mode) return hostile(outpath, pairs, seed, tpls);
    if (replay_kind >= 0) return replay(outpath, static_cast<ReplayKind>(replay_kind), pairs, seed, tpls);
    size_t max_setup = 0;
    for (auto& t : tpls) max_setup = std::max(max_setup, t.setup.size());
    if (nframes < nsas * (max_setup + 2)) {
        fprintf(stderr, "gen-capture: %" PRIu64 " frames are too few for %" PRIu64 " SAs\n", nframes, nsas);
        return 2;
    }
    Rng rng{seed};
    // Frames per tunnel: mean nframes/nsas, +-50%, summing exactly to nframes.
    std::vector<uint64_t> budget(nsas);
    {
        std::vector<double> w(nsas);
        double sw = 0;
        for (auto& x : w) { x = rng.range(0.5, 1.5); sw += x; }
        uint64_t given = 0;
        for (uint64_t i = 0; i < nsas; i++) {
            budget[i] = (uint64_t)std::floor(w[i] / sw * (double)nframes);
            given += budget[i];
        }
        for (uint64_t i = 0; given < nframes; i = (i + 1) % nsas, given++) budget[i]++;
    }
    if (duration <= 0) duration = std::max(600.0, (double)nframes / 250.0);  // capture start spread
    // The N:1 NAT: up to 400 clients per outside address (masquerade maps
    // source port 500 into 1-511, so an address holds at most 511 of them).
    const uint32_t per_addr = 400;
    uint64_t n_natted = nsas - nsas / 10;
    uint32_t n_addrs = (uint32_t)((n_natted + per_addr - 1) / per_addr);
    std::vector<std::vector<uint16_t>> free_low(n_addrs), free_high(n_addrs);
    std::vector<uint32_t> used(n_addrs, 0);
    std::vector<Tunnel> tun(nsas);
    std::vector<Event> ev;
    ev.reserve(nframes);
    uint32_t next_public = 0;
    const double keepalive_interval = 5.0;
    std::vector<uint32_t> addr_of(nsas);
    for (uint64_t i = 0; i < nsas; i++) {
        Tunnel& T = tun[i];
        T.tpl = &tpls[i % tpls.size()];
        T.natted = (i % 10) != 9;
        if (T.natted) {
            uint32_t a = rng.below(n_addrs);
            while (used[a] >= per_addr) a = (a + 1) % n_addrs;
            T.client_ip = (198u << 24) | (51u << 16) | (100u << 8) | (a + 1);  // 198.51.100.(a+1)
            if (used[a] == 0) {
                T.ike_port = 500; T.natt_port = 4500;
            } else {
                // random unused ports, like masquerade's per-address choice
                do T.ike_port = (uint16_t)(1 + rng.below(511)); while (T.ike_port == 500 ||
                    std::find(free_low[a].begin(), free_low[a].end(), T.ike_port) != free_low[a].end());
                do T.natt_port = (uint16_t)(1024 + rng.below(64512)); while (T.natt_port == 4500 ||
                    std::find(free_high[a].begin(), free_high[a].end(), T.natt_port) != free_high[a].end());
            }
            free_low[a].push_back(T.ike_port);
            free_high[a].push_back(T.natt_port);
            used[a]++;
        } else {
            uint32_t n = next_public++;
            T.client_ip = (198u << 24) | ((18u + ((n >> 16) & 1)) << 16) | (((n >> 8) & 0xff) << 8) | ((n & 0xff) ? (n & 0xff) : 1);  // 198.18.0.0/15
            T.ike_port = 500; T.natt_port = 4500;
        }
        uint64_t c = rng.next(), r = rng.next();
        for (int k = 0; k < 8; k++) { T.ispi[k] = (uint8_t)(c >> (8 * k)); T.rspi[k] = (uint8_t)(r >> (8 * k)); }
        if (is_zero(T.ispi, 8)) T.ispi[0] = 1;
        if (is_zero(T.rspi, 8)) T.rspi[0] = 1;
        do T.spi_c2s = (uint32_t)rng.next(); while (T.spi_c2s < 256);
        do T.spi_s2c = (uint32_t)rng.next(); while (T.spi_s2c < 256);
        // Schedule: setup, then ESP bursts and idle gaps until the budget is used.
        const TTunnel& tp = *T.tpl;
        double t = rng.range(0, duration);
        auto push = [&](double when, int16_t ex, uint16_t idx) {
            ev.push_back(Event{(int64_t)std::llround(when * 1e9), (uint32_t)i, ex, idx});
        };
        uint64_t left = budget[i];
        for (size_t k = 0; k < tp.setup.size(); k++) push(t + tp.setup[k].t, -1, (uint16_t)k);
        left -= tp.setup.size();
        t += tp.setup.back().t + rng.range(0.05, 0.2);
        size_t next_ex = 0;
        while (left > 0) {
            // ESP burst: request/reply pairs, 0.2-1 s apart
            uint64_t pairs = 3 + rng.below(28);
            double gap = rng.range(0.2, 1.0);
            bool server_first = rng.below(8) == 0;
            for (uint64_t k = 0; k < pairs && left > 0; k++) {
                double rtt = rng.range(0.0002, 0.0015);
                push(t, -2, (uint16_t)(server_first ? tp.esp_s2c : tp.esp_c2s)); left--;
                if (left == 0) break;
                push(t + rtt, -2, (uint16_t)(server_first ? tp.esp_c2s : tp.esp_s2c)); left--;
                t += gap + rng.range(-0.01, 0.01);
            }
            if (left == 0) break;
            // Idle: keepalives every 5 s from a NAT'ed client, a DPD /
            // INFORMATIONAL exchange at ~10 s of idle.
            double idle = rng.range(6, 40);
            double t_ex = -1;
            if (!tp.exchanges.empty()) {
                const auto& ex = tp.exchanges[next_ex % tp.exchanges.size()];
                if (idle > 11 && left > ex.size() + 1) t_ex = t + 10 + rng.range(0, 0.05);
            }
            double tk = t + keepalive_interval;
            bool ex_done = t_ex < 0;
            while (left > 0) {
                bool ka = T.natted && tp.keepalive >= 0 && tk < t + idle;
                if (!ex_done && (!ka || t_ex < tk)) {
                    const auto& ex = tp.exchanges[next_ex % tp.exchanges.size()];
                    for (size_t k = 0; k < ex.size(); k++) push(t_ex + ex[k].t, (int16_t)(next_ex % tp.exchanges.size()), (uint16_t)k);
                    left -= ex.size();
                    next_ex++;
                    ex_done = true;
                    continue;
                }
                if (!ka) break;
                push(tk + rng.range(0, 0.002), -2, (uint16_t)tp.keepalive); left--;
                tk += keepalive_interval;
            }
            t += idle;
        }
    }
    std::sort(ev.begin(), ev.end());
    // Render.
    Writer w;
    if (!w.open(outpath)) return 1;
    w.ipid = (uint16_t)rng.next();
    for (const Event& e : ev) {
        Tunnel& T = tun[e.tunnel];
        const TTunnel& tp = *T.tpl;
        const TPkt& p = e.exchange == -1 ? tp.setup[e.index]
                      : e.exchange == -2 ? tp.pool[e.index]
                                         : tp.exchanges[e.exchange][e.index];
        const uint8_t* udp = &p.data[p.udp_off];
        uint16_t server_port = p.from_client ? rd16(udp + 2) : rd16(udp);
        Rewrite r;
        r.client_ip = T.client_ip;
        r.client_port = server_port == 4500 ? T.natt_port : T.ike_port;
        r.tpl_ispi = tp.ispi; r.tpl_rspi = tp.rspi;
        r.ispi = T.ispi; r.rspi = T.rspi;
        if (p.kind == ESP) {
            r.spi = p.from_client ? T.spi_c2s : T.spi_s2c;
            r.seq = p.from_client ? ++T.seq_c2s : ++T.seq_s2c;
        }
        w.emit(p, e.t_ns, r);
    }
    w.close();
    fprintf(stderr, "gen-capture: %s: %" PRIu64 " frames (%" PRIu64 " IKE, %" PRIu64 " keepalive, %" PRIu64
            " ESP-in-UDP), %" PRIu64 " IKE SAs (%" PRIu64 " behind %u NAT addresses), seed %" PRIu64 "\n",
            outpath, w.count, w.n_ike, w.n_ka, w.n_esp, nsas, n_natted, n_addrs, seed);
    return 0;
}
