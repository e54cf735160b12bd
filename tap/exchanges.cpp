#include "exchanges.h"

#include <cstring>

namespace natt {

namespace {
template <size_t N, typename E>
const char* name_of(const char* const (&names)[N], E e) {
    const size_t i = static_cast<size_t>(e);
    return i < N ? names[i] : "?";
}
}  // namespace

const char* ike_flavour_name(IkeFlavour f) {
    static const char* const names[] = {"?", "main", "aggressive", "other", "ikev2"};  // IkeFlavour order
    return name_of(names, f);
}

const char* sa_state_name(SaState s) {
    static const char* const names[] = {"in progress", "established", "failed", "deleted"};  // SaState order
    return name_of(names, s);
}

uint32_t IkeSa::quick_modes() const {
    uint32_t n = 0;
    for (const auto& c : children)
        if (c.exchange != kExIkeAuth) n++;
    return n;
}

uint32_t IkeSa::quick_modes_completed() const {
    uint32_t n = 0;
    for (const auto& c : children)
        if (c.exchange != kExIkeAuth && c.completed) n++;
    return n;
}

ExchangeClass classify_exchange(const IkeHeader& h) {
    if (h.is_v2()) {
        switch (h.exchange) {
            case kExIkeSaInit:
            case kExIkeAuth:
            case kExIkeIntermediate: return ExchangeClass::Phase1;
            case kExCreateChildSa: return ExchangeClass::Child;
            case kExInformationalV2: return ExchangeClass::Informational;
            default: return ExchangeClass::Other;
        }
    }
    switch (h.exchange) {
        case kExBase:
        case kExIdentityProtection:
        case kExAuthOnly:
        case kExAggressive: return ExchangeClass::Phase1;
        case kExQuickMode: return ExchangeClass::Child;
        case kExInformational: return ExchangeClass::Informational;
        default: return ExchangeClass::Other;
    }
}

uint64_t digest_bytes(const uint8_t* p, size_t n) {
    // Eight bytes a step (every IKE message is digested): a 64-bit
    // multiply-xorshift mix, ample for telling messages apart.
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    if (!p) return h;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p + i, n - i);
    h = (h ^ tail) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

MessageRecord message_record(const Datagram& d, Direction dir) {
    const IkeHeader& h = d.ike->hdr;
    MessageRecord rec;
    rec.frame = d.frame;
    rec.time_ns = d.time_ns;
    rec.dir = dir;
    rec.floated = d.kind == DatagramKind::FloatedIke;
    rec.length = h.length;
    rec.msgid = h.msgid;
    rec.exchange = h.exchange;
    rec.rspi_set = h.rspi != 0;
    rec.first_payload = h.next_payload;
    rec.side = d.side;
    rec.digest = message_digest(d);
    return rec;
}

bool is_retransmission(const std::vector<MessageRecord>& v, Direction dir, uint64_t digest, bool same_bytes) {
    for (auto rit = v.rbegin(); rit != v.rend(); ++rit) {
        if (rit->retransmission) continue;
        return rit->dir == dir && (!same_bytes || rit->digest == digest);
    }
    return false;
}

uint8_t resent_message(const std::vector<MessageRecord>& v, Direction dir, uint64_t digest, bool same_bytes) {
    const bool latest = is_retransmission(v, dir, digest, same_bytes);
    uint8_t n = 0, hit = 0, last_first = 0;
    for (const auto& m : v) {
        if (m.retransmission) continue;
        if (n < 255) n++;
        last_first = n;
        if (!hit && m.dir == dir && m.digest == digest) hit = n;
    }
    if (latest) return last_first;
    return hit;
}

uint8_t first_copies(const std::vector<MessageRecord>& v) {
    uint8_t n = 0;
    for (const auto& m : v)
        if (!m.retransmission && n < 255) n++;
    return n;
}

bool Exchanges::record(std::vector<MessageRecord>& v, const MessageRecord& rec, size_t max_sas) {
    if (v.size() >= kMaxMessagesPerExchange || !records_.try_take(max_sas)) return false;
    // Grow one at a time while small: most exchanges keep a handful.
    if (v.size() == v.capacity() && v.size() < kTightRecords) v.reserve(v.size() + 1);
    v.push_back(rec);
    return true;
}

void Exchanges::observe(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, size_t max_sas) {
    const IkeHeader& h = d.ike->hdr;
    fa.exchange_class = classify_exchange(h);
    fa.msgid = h.msgid;
    if (d.ike->fragment_number > 1) {
        observe_continuation(sa, d, fa);
        return;
    }
    MessageRecord rec = message_record(d, fa.dir);
    switch (fa.exchange_class) {
        case ExchangeClass::Phase1:
            observe_phase1(sa, d, fa, rec, max_sas);
            // IKEv2's IKE_AUTH also creates the first CHILD_SA: ESP links to it.
            if (h.is_v2() && h.exchange == kExIkeAuth) observe_child(sa, d, fa, rec, max_sas);
            break;
        case ExchangeClass::Child: observe_child(sa, d, fa, rec, max_sas); break;
        case ExchangeClass::Informational:
            if (d.ike->has_delete) sa.state = SaState::Deleted;
            break;
        default: break;
    }
}

void Exchanges::observe_phase1(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, MessageRecord& rec, size_t max_sas) {
    const IkeHeader& h = d.ike->hdr;
    // IKEv1 main/aggressive mode alternate; a second message in the same
    // direction is a retransmission. IKEv2 pairs by message ID.
    const uint8_t resent = resent_message(sa.phase1, fa.dir, rec.digest, h.is_v2());
    const bool retrans = resent != 0;
    rec.retransmission = retrans;
    if (record(sa.phase1, rec, max_sas)) fa.record_index = static_cast<uint8_t>(sa.phase1.size());
    const uint8_t n = first_copies(sa.phase1);
    fa.retransmission = retrans;
    fa.phase1_message = retrans ? resent : n;
    if (retrans) {
        fa.findings |= kFindUnanswered;
        sa.finding_count++;
        sa.phase1_retransmissions++;
        if (sa.state == SaState::InProgress && sa.phase1_retransmissions >= 2) sa.state = SaState::Failed;
        return;
    }
    sa.phase1_last_frame = d.frame;
    // An IKEv2 error notify (type below 16384: INVALID_KE_PAYLOAD,
    // NO_PROPOSAL_CHOSEN, ...) answering the SA's first request ends it; the
    // initiator starts anew.
    if (h.is_v2() && h.v2_response() && h.exchange == kExIkeSaInit) {
        for (uint8_t k = 0; k < d.ike->n_notify; ++k) {
            if (d.ike->notify_types[k] != 0 && d.ike->notify_types[k] < 16384) {
                sa.state = SaState::Failed;
                return;
            }
        }
    }
    if (sa.state == SaState::Failed) sa.state = SaState::InProgress;
    const bool done = (sa.flavour == IkeFlavour::MainMode && n >= 6) ||
                      (sa.flavour == IkeFlavour::AggressiveMode && n >= 3) ||
                      (h.is_v2() && h.exchange == kExIkeAuth && h.v2_response());
    if (done && sa.state != SaState::Deleted) sa.state = SaState::Established;
}

void Exchanges::observe_child(IkeSa& sa, const Datagram& d, FrameAnalysis& fa, MessageRecord& rec, size_t max_sas) {
    const IkeHeader& h = d.ike->hdr;
    uint32_t idx = 0;
    if (const uint32_t* known = child_by_msgid_.find(key(sa, h.msgid))) {
        idx = *known;
    } else if (sa.children.size() < kMaxChildrenPerSa && children_.try_take(max_sas)) {
        sa.children.emplace_back();
        sa.children.back().msgid = h.msgid;
        sa.children.back().exchange = h.exchange;
        idx = static_cast<uint32_t>(sa.children.size());
        child_by_msgid_[key(sa, h.msgid)] = idx;
    }
    if (idx == 0) return;
    ChildExchange& cx = sa.children[idx - 1];
    const uint8_t resent = resent_message(cx.messages, fa.dir, rec.digest, true);
    const bool retrans = resent != 0;
    rec.retransmission = retrans;
    const bool recorded = record(cx.messages, rec, max_sas);
    const uint8_t n = first_copies(cx.messages);
    if (fa.exchange_class == ExchangeClass::Child) {
        fa.retransmission = retrans;
        fa.record_index = recorded ? static_cast<uint8_t>(cx.messages.size()) : 0;
        fa.child_index = idx;
        fa.child_message = retrans ? resent : n;
        fa.phase1_last_frame = sa.phase1_last_frame;
    }
    const bool done = h.is_v2() ? h.v2_response() : n >= 3;
    if (done && !cx.completed && !retrans) {
        cx.completed = true;
        cx.completed_frame = d.frame;
    }
}

void Exchanges::observe_continuation(IkeSa& sa, const Datagram& d, FrameAnalysis& fa) {
    // The latest record of this message ID from this sender is its first fragment.
    const std::vector<MessageRecord>* v = nullptr;
    if (fa.exchange_class == ExchangeClass::Phase1) {
        v = &sa.phase1;
    } else if (ChildExchange* cx = child(sa, d.ike->hdr.msgid)) {
        v = &cx->messages;
        fa.child_index = static_cast<uint32_t>(cx - sa.children.data()) + 1;
    }
    if (!v) return;
    for (size_t i = v->size(); i > 0; --i) {
        const MessageRecord& m = (*v)[i - 1];
        if (m.dir != fa.dir || m.msgid != d.ike->hdr.msgid) continue;
        fa.retransmission = m.retransmission;
        uint8_t n = 0;
        for (size_t k = 0; k < i; ++k)
            if (!(*v)[k].retransmission && n < 255) n++;
        if (fa.exchange_class == ExchangeClass::Phase1)
            fa.phase1_message = n;
        else
            fa.child_message = n;
        return;
    }
}

}  // namespace natt
