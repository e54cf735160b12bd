#include "sa_registry.h"

#include <utility>

#include "copies.h"

namespace natt {

IkeFlavour flavour_of(const IkeHeader& h) {
    if (h.is_v2()) return IkeFlavour::Ikev2;
    if (h.exchange == kExIdentityProtection) return IkeFlavour::MainMode;
    if (h.exchange == kExAggressive) return IkeFlavour::AggressiveMode;
    return IkeFlavour::V1Other;
}

IkeSa& SaRegistry::create(const Datagram& d, bool placeholder) {
    if (placeholder) placeholders_++;
    sas_.emplace_back();
    IkeSa& sa = sas_.back();
    sa.number = static_cast<uint32_t>(sas_.size());
    sa.first_frame = d.frame;
    sa.first_time_ns = d.time_ns;
    sa.sides.of(d.src, d.dst);
    aliases_.emplace_back();
    return sa;
}

void SaRegistry::add_alias(IkeSa& sa, const Endpoint& initiator, const Endpoint& responder) {
    auto& v = aliases_[sa.number - 1];
    for (const Alias& a : v)
        if (a.initiator == initiator && a.responder == responder) return;
    if (v.size() < kMaxAliasesPerSa) v.push_back(Alias{initiator, responder});
}

bool SaRegistry::alias_matches(uint32_t number, const Endpoint& src, const Endpoint& dst) const {
    for (const Alias& a : aliases_[number - 1]) {
        if ((a.initiator == src && a.responder == dst) || (a.initiator == dst && a.responder == src)) return true;
    }
    return false;
}

void SaRegistry::set_responder_cookie(IkeSa& sa, uint64_t rcookie) {
    sa.rcookie = rcookie;
    by_cookies_[CookiePair{sa.icookie, sa.rcookie}].push_back(sa.number);
}

IkeSa* SaRegistry::match_cookies(const Datagram& d, bool* twin) {
    *twin = false;
    const IkeHeader& h = d.ike->hdr;
    if (h.rspi != 0) {
        if (const SaList* same = by_cookies_.find(CookiePair{h.ispi, h.rspi}); same && !same->empty()) {
            for (uint32_t n : *same)
                if (alias_matches(n, d.src, d.dst)) return &at(n);
            return &at((*same)[0]);  // same cookies from a new ip:port: NAT rebinding
        }
        // The response that gives a pending SA its responder cookie.
        if (const SaList* pending_sas = by_icookie_.find(h.ispi)) {
            IkeSa* single = nullptr;
            size_t pending = 0;
            for (uint32_t n : *pending_sas) {
                IkeSa& sa = at(n);
                if (sa.rcookie != 0) continue;
                pending++;
                single = &sa;
                if (alias_matches(n, d.src, d.dst)) {
                    set_responder_cookie(sa, h.rspi);
                    return &sa;
                }
            }
            if (pending == 1 && d.time_ns - single->last_time_ns < kPendingResponseWindowNs) {
                set_responder_cookie(*single, h.rspi);
                // IKEv1: only the responder knows its cookie before this message.
                const bool from_responder = h.is_v2() ? !h.v2_initiator() : true;
                add_alias(*single, from_responder ? d.dst : d.src, from_responder ? d.src : d.dst);
                return single;
            }
        }
        return nullptr;
    }
    if (const SaList* same_icookie = by_icookie_.find(h.ispi)) {
        for (uint32_t n : *same_icookie)
            if (alias_matches(n, d.src, d.dst)) return &at(n);
        // The same first message on the other side of a NAT.
        for (uint32_t n : *same_icookie) {
            IkeSa& sa = at(n);
            Datagram here = d;
            const int side = sa.sides.find(d.src, d.dst);
            here.side = side >= 0 ? static_cast<uint8_t>(side) : sa.sides.next();
            for (const MessageRecord& m : sa.phase1) {
                if (is_twin(m, here, Direction::FromInitiator)) {
                    *twin = true;
                    add_alias(sa, d.src, d.dst);
                    return &sa;
                }
            }
        }
        // The first message after later ones (frames out of time order, or
        // the floated messages seen first): the same initiator cookie between
        // the same hosts is the same SA.
        for (uint32_t n : *same_icookie) {
            IkeSa& sa = at(n);
            for (const Alias& a : aliases_[n - 1]) {
                if (a.initiator.same_address(d.src) && a.responder.same_address(d.dst)) {
                    // The SA's peers as they began, before any float.
                    sa.initiator = d.src;
                    sa.responder = d.dst;
                    add_alias(sa, d.src, d.dst);
                    return &sa;
                }
            }
        }
    }
    return nullptr;
}

namespace {
// The placeholder's guess (made from ESP or keepalives on one side of a NAT)
// has the roles the other way round from its first IKE message's (maybe on
// the other side): told by the addresses a NAT leaves alone, else by both
// endpoints on the same side.
bool guessed_backwards(const Float& fl, const IkeSa& sa) {
    if (fl.initiator == sa.initiator || fl.responder == sa.responder) return false;
    if (fl.initiator == sa.responder || fl.responder == sa.initiator) return true;
    const bool kept = fl.initiator.same_address(sa.initiator) || fl.responder.same_address(sa.responder);
    const bool swapped = fl.initiator.same_address(sa.responder) || fl.responder.same_address(sa.initiator);
    return swapped && !kept;
}
}  // namespace

void SaRegistry::adopt_identity(IkeSa& sa, const Datagram& d) {
    const IkeHeader& h = d.ike->hdr;
    const bool placeholder = sa.major == 0 && sa.floating.floated;
    sa.icookie = h.ispi;
    sa.rcookie = h.rspi;
    sa.major = static_cast<uint8_t>(h.major());
    sa.flavour = flavour_of(h);
    // Roles from the protocol: IKEv2's Initiator flag (also on a reply seen
    // alone, e.g. COOKIE or INVALID_KE_PAYLOAD with responder SPI 0); in
    // IKEv1 the first message has no responder cookie, and a phase-1 message
    // with one that starts with an SA payload is MM2/AM2, the responder's.
    // Mid-session IKEv1 captures cannot tell: the first sender is taken as
    // the initiator (sa.roles_guessed).
    bool from_initiator = true;
    sa.roles_guessed = false;
    if (h.is_v2()) {
        from_initiator = h.v2_initiator();
    } else if (h.rspi != 0) {
        const bool phase1 = h.exchange == kExIdentityProtection || h.exchange == kExAggressive;
        if (phase1 && h.msgid == 0 && h.next_payload == kPlV1Sa)
            from_initiator = false;
        else
            sa.roles_guessed = true;
    }
    sa.initiator = from_initiator ? d.src : d.dst;
    sa.responder = from_initiator ? d.dst : d.src;
    Float& fl = sa.floating;
    if (placeholder && sa.roles_guessed) {
        // A mid-session IKEv1 message cannot tell who initiated: keep the
        // orientation the placeholder guessed from the ports.
        if (d.src == fl.responder || d.dst == fl.initiator) {
            sa.initiator = d.dst;
            sa.responder = d.src;
        }
    } else if (placeholder && guessed_backwards(fl, sa)) {
        std::swap(fl.initiator, fl.responder);
        for (EspSpiStats& e : sa.esp)
            e.dir = e.dir == Direction::FromInitiator ? Direction::FromResponder : Direction::FromInitiator;
        std::swap(sa.keepalives[1], sa.keepalives[2]);
        for (Alias& a : aliases_[sa.number - 1]) std::swap(a.initiator, a.responder);
    }
    by_icookie_[sa.icookie].push_back(sa.number);
    if (sa.rcookie) by_cookies_[CookiePair{sa.icookie, sa.rcookie}].push_back(sa.number);
    add_alias(sa, sa.initiator, sa.responder);
}

Direction SaRegistry::direction_of(const IkeSa& sa, const Datagram& d) const {
    if (d.ike && d.ike->hdr.is_v2())
        return d.ike->hdr.v2_initiator() ? Direction::FromInitiator : Direction::FromResponder;
    for (const Alias& a : aliases_[sa.number - 1]) {
        if (a.initiator == d.src && a.responder == d.dst) return Direction::FromInitiator;
        if (a.responder == d.src && a.initiator == d.dst) return Direction::FromResponder;
    }
    const Float& fl = sa.floating;
    if (fl.floated) {
        if (d.src == fl.initiator || d.dst == fl.responder) return Direction::FromInitiator;
        if (d.src == fl.responder || d.dst == fl.initiator) return Direction::FromResponder;
    }
    if (d.src.same_address(sa.responder) || d.dst.same_address(sa.initiator)) return Direction::FromResponder;
    if (d.src.same_address(sa.initiator) || d.dst.same_address(sa.responder)) return Direction::FromInitiator;
    return Direction::Unknown;
}

void SaRegistry::note_hosts(const Datagram& d, uint32_t number) {
    const PortPair hosts = address_pair(d.src, d.dst);
    if (!by_addresses_.contains(hosts) && !Budget(kHostPairsPerSa).has_room(by_addresses_.size(), max_sas_)) return;
    by_addresses_[hosts] = number;
}

uint32_t SaRegistry::sa_of_addresses(const Endpoint& a, const Endpoint& b) const {
    const uint32_t* n = by_addresses_.find(address_pair(a, b));
    return n ? *n : 0;
}

}  // namespace natt
