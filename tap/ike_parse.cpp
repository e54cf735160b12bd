#include "ike_parse.h"

namespace natt {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t be32(const uint8_t* p) {
    return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
           (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
uint64_t be64(const uint8_t* p) { return (static_cast<uint64_t>(be32(p)) << 32) | be32(p + 4); }

bool v1_exchange_known(uint8_t x) { return (x >= kExBase && x <= kExTransaction) || x == kExQuickMode || x == kExNewGroup; }
bool v2_exchange_known(uint8_t x) {
    return (x >= kExIkeSaInit && x <= kExIkeSessionResume) || x == kExIkeIntermediate || x == kExIkeFollowupKe;
}

// IKEv1 payload types: RFC 2408 1-13, RFC 2408bis/GDOI/mode-config 14-21, drafts 130-132.
bool v1_payload_known(uint8_t t) { return t <= 21 || (t >= 130 && t <= 132); }
// IKEv2 payload types 33-54 (RFC 7296, RFC 6467, RFC 7383, RFC 8019-era additions).
bool v2_payload_known(uint8_t t) { return t == 0 || (t >= 33 && t <= 54); }

// A notify payload: its fixed part (IKEv2: Protocol ID, SPI size, type, 4
// bytes; IKEv1: DOI first, 8 bytes) ends with the SPI size and the type;
// the data follows the SPI.
void add_notify(const uint8_t* body, const PayloadRef& ref, uint32_t fixed, IkeMessage* m) {
    if (ref.length < fixed || m->n_notify >= kMaxNotify) return;
    const uint8_t spi_size = body[fixed - 3];
    PayloadRef data;
    data.type = ref.type;
    data.offset = ref.offset + fixed + spi_size;
    data.length = ref.length >= fixed + spi_size ? ref.length - fixed - spi_size : 0;
    if (ref.length < fixed + spi_size) data.offset = ref.offset + ref.length;
    m->notify_types[m->n_notify] = be16(body + fixed - 2);
    m->notify_data[m->n_notify++] = data;
}

// Walk IKEv1 phase-1 SA payload body: DOI, situation, then proposals and
// transforms; record the first transform's hash algorithm.
void parse_v1_sa(const uint8_t* body, uint32_t len, IkeMessage* m) {
    if (len < 8) return;
    uint32_t off = 8;  // DOI(4) + situation(4) (IPSEC DOI situation is 4 bytes)
    // Proposal payloads.
    while (off + 8 <= len) {
        const uint8_t* p = body + off;
        uint8_t p_next = p[0];
        uint16_t p_len = be16(p + 2);
        if (p_len < 8 || off + p_len > len) return;
        uint8_t spi_size = p[6];
        uint8_t n_transforms = p[7];
        uint32_t toff = off + 8 + spi_size;
        uint32_t pend = off + p_len;
        for (uint8_t i = 0; i < n_transforms && toff + 8 <= pend; ++i) {
            const uint8_t* t = body + toff;
            uint16_t t_len = be16(t + 2);
            if (t_len < 8 || toff + t_len > pend) return;
            if (m->v1_transforms < 255) m->v1_transforms++;
            if (m->v1_transforms == 1) {
                // SA attributes after transform#, transform-id, reserved(2).
                uint32_t aoff = toff + 8;
                while (aoff + 4 <= toff + t_len) {
                    const uint8_t* a = body + aoff;
                    uint16_t type = be16(a);
                    bool tv = type & 0x8000;
                    type &= 0x7fff;
                    uint16_t vlen = tv ? 0 : be16(a + 2);
                    if (!tv && aoff + 4 + vlen > toff + t_len) break;
                    if (tv && type == 2) {  // Hash Algorithm
                        uint16_t v = be16(a + 2);
                        m->v1_hash = static_cast<uint8_t>(v <= 255 ? v : 0);
                    }
                    aoff += 4 + vlen;
                }
            }
            toff += t_len;
        }
        off = pend;
        if (p_next == 0) break;
    }
}

}  // namespace

const char* header_check_name(HeaderCheck c) {
    switch (c) {
        case HeaderCheck::Ok: return "ok";
        case HeaderCheck::TooShort: return "shorter than an IKE header (28 bytes)";
        case HeaderCheck::BadVersion: return "unknown IKE version";
        case HeaderCheck::BadExchange: return "unknown exchange type";
        case HeaderCheck::BadNextPayload: return "unknown first payload type";
        case HeaderCheck::BadFlags: return "reserved flag bits set";
        case HeaderCheck::ZeroInitiatorSpi: return "initiator cookie/SPI is zero";
        case HeaderCheck::BadLength: return "IKE length field outside the datagram";
        case HeaderCheck::LengthMismatch: return "IKE length field differs from the datagram length";
        case HeaderCheck::NonZeroMsgId: return "phase-1 message with a non-zero message ID";
    }
    return "?";
}

const char* chain_status_name(ChainStatus s) {
    switch (s) {
        case ChainStatus::Complete: return "complete";
        case ChainStatus::Encrypted: return "encrypted";
        case ChainStatus::BadPayloadLength: return "bad payload length";
        case ChainStatus::TrailingBytes: return "trailing bytes after the last payload";
        case ChainStatus::TooManyPayloads: return "too many payloads";
    }
    return "?";
}

const char* datagram_kind_name(DatagramKind k) {
    switch (k) {
        case DatagramKind::None: return "not NAT-T";
        case DatagramKind::PlainIke: return "IKE";
        case DatagramKind::FloatedIke: return "floated IKE";
        case DatagramKind::Keepalive: return "NAT-T keepalive";
        case DatagramKind::EspInUdp: return "ESP-in-UDP";
        case DatagramKind::IkeWithoutMarker: return "IKE without non-ESP marker";
        case DatagramKind::Malformed: return "malformed";
        case DatagramKind::RawEsp: return "raw ESP";
    }
    return "?";
}

const char* malformation_name(Malformation m) {
    switch (m) {
        case Malformation::None: return "none";
        case Malformation::Empty: return "empty UDP payload";
        case Malformation::TooShortForEsp: return "too short for ESP (fewer than 8 bytes) and not a keepalive";
        case Malformation::OneByteNotFF: return "one-byte payload that is not the 0xFF keepalive";
        case Malformation::MarkerBadIke: return "non-ESP marker not followed by a valid IKE header";
        case Malformation::IkeHeaderInvalid: return "not an IKE header";
    }
    return "?";
}

HeaderCheck parse_ike_header(const uint8_t* d, size_t len, Strictness s, IkeHeader* out) {
    if (!d || len < kIkeHeaderLen) return HeaderCheck::TooShort;
    IkeHeader h;
    h.ispi = be64(d);
    h.rspi = be64(d + 8);
    h.next_payload = d[16];
    h.version = d[17];
    h.exchange = d[18];
    h.flags = d[19];
    h.msgid = be32(d + 20);
    h.length = be32(d + 24);
    if (out) *out = h;

    const bool strict = s == Strictness::Heuristic;
    const unsigned major = h.major();
    if (major != 1 && major != 2) return HeaderCheck::BadVersion;
    if (strict && (h.version & 0x0f) != 0) return HeaderCheck::BadVersion;
    if (h.length < kIkeHeaderLen || h.length > len) return HeaderCheck::BadLength;
    if (!strict) return HeaderCheck::Ok;

    if (major == 1) {
        if (!v1_exchange_known(h.exchange)) return HeaderCheck::BadExchange;
        if (!v1_payload_known(h.next_payload) || h.next_payload == 0) return HeaderCheck::BadNextPayload;
    } else {
        if (!v2_exchange_known(h.exchange)) return HeaderCheck::BadExchange;
        if (!v2_payload_known(h.next_payload)) return HeaderCheck::BadNextPayload;
    }
    if (h.ispi == 0) return HeaderCheck::ZeroInitiatorSpi;
    if ((h.exchange == kExIdentityProtection || h.exchange == kExAggressive || h.exchange == kExIkeSaInit) &&
        h.msgid != 0)
        return HeaderCheck::NonZeroMsgId;
    // Checked last, so that a caller can accept it: receivers ignore reserved
    // flag bits (RFC 7296 §3.1), but on a random port they are one more sign
    // that the bytes are not IKE.
    if ((major == 1 && (h.flags & 0xf8)) || (major == 2 && (h.flags & 0xc7))) return HeaderCheck::BadFlags;
    if (h.length != len) return HeaderCheck::LengthMismatch;
    return HeaderCheck::Ok;
}

HeaderCheck parse_ike_message(const uint8_t* d, size_t len, Strictness s, IkeMessage* m) {
    *m = IkeMessage();
    HeaderCheck c = parse_ike_header(d, len, s, &m->hdr);
    if (c != HeaderCheck::Ok) return c;

    const IkeHeader& h = m->hdr;
    const uint32_t end = h.length;
    if (h.v1_encrypted()) {
        m->chain = ChainStatus::Encrypted;
        return c;
    }
    uint8_t next = h.next_payload;
    uint32_t off = kIkeHeaderLen;
    while (next != kPlNone) {
        if (off + 4 > end) {
            m->chain = ChainStatus::BadPayloadLength;
            m->chain_error_offset = off;
            return c;
        }
        const uint8_t type = next;
        const uint8_t* g = d + off;
        const uint16_t plen = be16(g + 2);
        if (plen < 4 || off + plen > end) {
            m->chain = ChainStatus::BadPayloadLength;
            m->chain_error_offset = off;
            return c;
        }
        if (m->n_payloads >= kMaxPayloads) {
            m->chain = ChainStatus::TooManyPayloads;
            m->chain_error_offset = off;
            return c;
        }
        PayloadRef ref;
        ref.type = type;
        ref.offset = off + 4;
        ref.length = plen - 4u;
        m->n_payloads++;
        const uint8_t* body = d + ref.offset;

        const bool v2 = h.is_v2();
        if (type == (v2 ? kPlV2Sa : kPlV1Sa)) {
            m->has_sa = true;
            if (!v2) parse_v1_sa(body, ref.length, m);
        } else if (type == (v2 ? kPlV2VendorId : kPlV1VendorId)) {
            if (m->n_vendor_ids < kMaxVendorIds) m->vendor_ids[m->n_vendor_ids++] = ref;
        } else if (type == (v2 ? kPlV2Delete : kPlV1Delete)) {
            m->has_delete = true;
        } else if (type == (v2 ? kPlV2Notify : kPlV1Notify)) {
            add_notify(body, ref, v2 ? 4 : 8, m);
        } else if (v2 && (type == kPlV2Encrypted || type == kPlV2EncryptedFragment)) {
            if (type == kPlV2EncryptedFragment) {
                // RFC 7383 §2.5: Fragment Number, Total Fragments, then ciphertext.
                m->has_fragment = true;
                if (ref.length >= 4) m->fragment_number = be16(body);
            }
            // Everything after the SK header is ciphertext.
            m->chain = ChainStatus::Encrypted;
            return c;
        } else if (!v2 && (type == kPlV1NatDRfc || type == kPlV1NatDDraft || type == kPlV1NatDDraft15)) {
            if (m->n_natd < kMaxNatD) m->natd[m->n_natd++] = ref;
        } else if (!v2 && type == kPlV1Fragment) {
            // Fragment ID (2 bytes), Fragment Number (1), Flags (1).
            m->has_fragment = true;
            if (ref.length >= 4) {
                m->fragment_id = be16(body);
                m->fragment_number = body[2];
                m->fragment_last = (body[3] & 1) != 0;
                m->fragment_data = {type, ref.offset + 4, ref.length - 4};
            }
        }
        next = g[0];
        off += plen;
    }
    if (off != end) {
        m->chain = ChainStatus::TrailingBytes;
        m->chain_error_offset = off;
    }
    return c;
}

Classification classify_natt_datagram(const uint8_t* d, size_t len) {
    Classification r;
    if (len == 0 || !d) {
        r.kind = DatagramKind::Malformed;
        r.malformed = Malformation::Empty;
        return r;
    }
    if (len == 1) {
        if (d[0] == 0xFF) {
            r.kind = DatagramKind::Keepalive;
        } else {
            r.kind = DatagramKind::Malformed;
            r.malformed = Malformation::OneByteNotFF;
        }
        return r;
    }
    if (len >= kNonEspMarkerLen && be32(d) == 0) {
        IkeHeader h;
        r.ike_check = parse_ike_header(d + kNonEspMarkerLen, len - kNonEspMarkerLen, Strictness::Port, &h);
        if (r.ike_check == HeaderCheck::Ok) {
            r.kind = DatagramKind::FloatedIke;
        } else {
            r.kind = DatagramKind::Malformed;
            r.malformed = Malformation::MarkerBadIke;
        }
        return r;
    }
    if (len < kEspMinLen) {
        r.kind = DatagramKind::Malformed;
        r.malformed = Malformation::TooShortForEsp;
        return r;
    }
    // A peer that forgets the marker sends a full IKE header here; ESP would
    // need SPI == CKY-I's high half and a sequence == its low half to match.
    if (looks_like_plain_ike(d, len)) {
        r.kind = DatagramKind::IkeWithoutMarker;
        return r;
    }
    r.kind = DatagramKind::EspInUdp;
    r.esp_spi = be32(d);
    r.esp_seq = be32(d + 4);
    return r;
}

Classification classify_ike_datagram(const uint8_t* d, size_t len) {
    Classification r;
    if (len == 0 || !d) {
        r.kind = DatagramKind::Malformed;
        r.malformed = Malformation::Empty;
        return r;
    }
    // Peers that detected a NAT but have not floated (yet) keep the mapping
    // of their IKE socket alive with the same 0xFF byte.
    if (is_keepalive(d, len)) {
        r.kind = DatagramKind::Keepalive;
        return r;
    }
    IkeHeader h;
    r.ike_check = parse_ike_header(d, len, Strictness::Port, &h);
    if (r.ike_check == HeaderCheck::Ok) {
        r.kind = DatagramKind::PlainIke;
    } else {
        r.kind = DatagramKind::Malformed;
        r.malformed = Malformation::IkeHeaderInvalid;
    }
    return r;
}

namespace {
// The strict header check plus a clear payload chain that parses: a random
// payload rarely survives both.
bool strict_ike(const uint8_t* d, size_t len) {
    // The header alone rejects nearly everything (every ESP packet on 4500
    // comes through here): no IkeMessage to build for it.
    if (parse_ike_header(d, len, Strictness::Heuristic, nullptr) != HeaderCheck::Ok) return false;
    IkeMessage m;
    if (parse_ike_message(d, len, Strictness::Heuristic, &m) != HeaderCheck::Ok) return false;
    if (m.chain == ChainStatus::BadPayloadLength || m.chain == ChainStatus::TrailingBytes) return false;
    if (m.chain == ChainStatus::Encrypted && !m.hdr.is_v2()) {
        // IKEv1 ciphertext is whole cipher blocks (DES/3DES 8, AES 16 bytes).
        if ((m.hdr.length - kIkeHeaderLen) % 8 != 0 || m.hdr.length == kIkeHeaderLen) return false;
    }
    return true;
}
}  // namespace

bool looks_like_floated_ike(const uint8_t* d, size_t len) {
    if (!d || len < kNonEspMarkerLen + kIkeHeaderLen || be32(d) != 0) return false;
    return strict_ike(d + kNonEspMarkerLen, len - kNonEspMarkerLen);
}

bool looks_like_plain_ike(const uint8_t* d, size_t len) {
    if (!d || len < kIkeHeaderLen) return false;
    return strict_ike(d, len);
}

bool looks_like_esp_in_udp(const uint8_t* d, size_t len) {
    if (!d || len < kEspMinLen) return false;
    return be32(d) >= 256;
}

}  // namespace natt
