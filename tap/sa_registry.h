// natt: the SAs of one capture: storage and numbering, the cookie indexes,
// the endpoint pairs each SA was seen under (aliases), the max_sas cap.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include "datagram.h"
#include "flat_map.h"
#include "ike_sa.h"
#include "limits.h"

namespace natt {

// An initiator->responder endpoint pair under which an SA was seen (each
// side of a NAT gives one; a rebinding gives another).
struct Alias {
    Endpoint initiator, responder;
};

struct CookiePair {
    uint64_t i, r;
    bool operator==(const CookiePair& o) const { return i == o.i && r == o.r; }
};
struct CookiePairHash {
    size_t operator()(const CookiePair& c) const noexcept { return std::hash<uint64_t>()(c.i * 0x9e3779b97f4a7c15ull ^ c.r); }
};

IkeFlavour flavour_of(const IkeHeader& h);

class SaRegistry {
public:
    IkeSa& at(uint32_t number) { return sas_[number - 1]; }
    const IkeSa& at(uint32_t number) const { return sas_[number - 1]; }
    const IkeSa* find(uint32_t number) const { return number == 0 || number > sas_.size() ? nullptr : &sas_[number - 1]; }
    size_t count() const { return sas_.size(); }
    const std::deque<IkeSa>& all() const { return sas_; }

    void set_max_sas(size_t n) { max_sas_ = n ? n : 1; }
    size_t max_sas() const { return max_sas_; }
    bool full() const { return sas_.size() >= max_sas_; }
    // The placeholders' share of the table is taken (kPlaceholderShare).
    bool placeholders_full() const { return placeholders_ >= std::max<size_t>(1, max_sas_ / kPlaceholderShare); }
    // A new SA numbered next, first seen in d (the caller checks full(), and
    // placeholders_full() for a placeholder).
    IkeSa& create(const Datagram& d, bool placeholder = false);

    // The SA of an IKE message by its cookies: the same pair under a known
    // alias, else the same pair from a new ip:port (a NAT rebinding), else
    // the pending SA this response gives its responder cookie; for a first
    // message, the same message seen on the other side of a NAT (*twin).
    IkeSa* match_cookies(const Datagram& d, bool* twin);
    // The first IKE message of an SA (or of a placeholder made by ESP or
    // keepalives): its cookies, version and peers; then indexed.
    void adopt_identity(IkeSa& sa, const Datagram& d);

    const std::vector<Alias>& aliases(const IkeSa& sa) const { return aliases_[sa.number - 1]; }
    // Remember an endpoint pair of the SA (once; at most kMaxAliasesPerSa).
    void add_alias(IkeSa& sa, const Endpoint& initiator, const Endpoint& responder);
    bool alias_matches(uint32_t number, const Endpoint& src, const Endpoint& dst) const;
    // Who sent d within the SA: IKEv2's flag, a known alias, the float, the addresses.
    Direction direction_of(const IkeSa& sa, const Datagram& d) const;

    // The latest SA between two hosts (ports ignored).
    void note_hosts(const Datagram& d, uint32_t number);
    uint32_t sa_of_addresses(const Endpoint& a, const Endpoint& b) const;
    // The SAs of an initiator cookie (empty: none).
    const SaList& with_icookie(uint64_t icookie) const {
        static const SaList none;
        const SaList* l = by_icookie_.find(icookie);
        return l ? *l : none;
    }
    size_t keyed_entries() const { return by_cookies_.size() + by_icookie_.size() + by_addresses_.size(); }

private:
    std::deque<IkeSa> sas_;  // stable addresses; index = number - 1
    std::vector<std::vector<Alias>> aliases_;  // per SA
    FlatMap<CookiePair, SaList, CookiePairHash> by_cookies_;
    FlatMap<uint64_t, SaList, std::hash<uint64_t>> by_icookie_;
    FlatMap<PortPair, uint32_t, PortPairHash> by_addresses_;  // ports zeroed
    size_t max_sas_ = kDefaultMaxSas;
    size_t placeholders_ = 0;  // SAs made as placeholders (adopted by IKE or not)

    void set_responder_cookie(IkeSa& sa, uint64_t rcookie);
};

// Two endpoints with their ports zeroed: a pair of hosts.
inline PortPair address_pair(Endpoint a, Endpoint b) {
    a.port = 0;
    b.port = 0;
    return PortPair(a, b);
}

}  // namespace natt
