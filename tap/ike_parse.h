// natt: the one parser of IKE headers, payload chains and NAT-T datagrams.
//
// Pure C++ (no epan types): the heuristics, the port dissector and the SA
// model all read datagrams through these functions, and the unit tests and
// fuzzers drive them directly. Every result is a plain struct with fixed-size
// arrays, so it may live on a dissector's stack across calls that longjmp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "limits.h"

namespace natt {

constexpr size_t kIkeHeaderLen = 28;
constexpr size_t kNonEspMarkerLen = 4;
constexpr size_t kEspMinLen = 8;  // SPI + sequence number

// IKE exchange types (RFC 2408/2409, RFC 7296, RFC 9242).
enum IkeExchange : uint8_t {
    kExBase = 1,
    kExIdentityProtection = 2,  // main mode
    kExAuthOnly = 3,
    kExAggressive = 4,
    kExInformational = 5,
    kExTransaction = 6,  // mode config
    kExQuickMode = 32,
    kExNewGroup = 33,
    kExIkeSaInit = 34,
    kExIkeAuth = 35,
    kExCreateChildSa = 36,
    kExInformationalV2 = 37,
    kExIkeSessionResume = 38,
    kExIkeIntermediate = 43,
    kExIkeFollowupKe = 44,
};

// Payload types we look into (IKEv1 and IKEv2 share one numbering space).
enum IkePayload : uint8_t {
    kPlNone = 0,
    kPlV1Sa = 1,
    kPlV1Notify = 11,
    kPlV1Delete = 12,
    kPlV1VendorId = 13,
    kPlV1NatDDraft15 = 15,  // draft-ietf-ipsec-nat-t-ike-0[4-8]? : collides with GDOI SAK
    kPlV1NatDRfc = 20,      // RFC 3947
    kPlV1NatOaRfc = 21,
    kPlV1NatDDraft = 130,  // draft-ietf-ipsec-nat-t-ike-02/03
    kPlV1NatOaDraft = 131,
    kPlV1Fragment = 132,
    kPlV2Sa = 33,
    kPlV2Notify = 41,
    kPlV2Delete = 42,
    kPlV2VendorId = 43,
    kPlV2Encrypted = 46,
    kPlV2EncryptedFragment = 53,
};

// IKEv2 notify types natt cares about (RFC 7296 §3.10.1, RFC 4555).
enum IkeNotify : uint16_t {
    kNtfyV2NatDetectionSourceIp = 16388,
    kNtfyV2NatDetectionDestinationIp = 16389,
    kNtfyV1RUThere = 36136,  // RFC 3706 DPD
    kNtfyV1RUThereAck = 36137,
};

// IKEv1 phase-1 hash algorithms (RFC 2409 appendix A, RFC 4868).
enum IkeV1Hash : uint8_t {
    kHashNone = 0,
    kHashMd5 = 1,
    kHashSha1 = 2,
    kHashTiger = 3,
    kHashSha2_256 = 4,
    kHashSha2_384 = 5,
    kHashSha2_512 = 6,
};

struct IkeHeader {
    uint64_t ispi = 0;  // initiator cookie / SPI
    uint64_t rspi = 0;  // responder cookie / SPI
    uint8_t next_payload = 0;
    uint8_t version = 0;  // raw byte: 0x10 IKEv1, 0x20 IKEv2
    uint8_t exchange = 0;
    uint8_t flags = 0;
    uint32_t msgid = 0;
    uint32_t length = 0;

    unsigned major() const { return version >> 4; }
    bool is_v2() const { return major() == 2; }
    // IKEv1 encryption flag; IKEv2 encrypts through the SK payload instead.
    bool v1_encrypted() const { return !is_v2() && (flags & 0x01); }
    bool v2_initiator() const { return is_v2() && (flags & 0x08); }
    bool v2_response() const { return is_v2() && (flags & 0x20); }
};

enum class HeaderCheck : uint8_t {
    Ok = 0,
    TooShort,          // fewer than 28 bytes
    BadVersion,        // major version not 1 or 2 (or minor not 0 when strict)
    BadExchange,       // exchange type unknown for that version
    BadNextPayload,    // first payload type unknown for that version
    BadFlags,          // reserved flag bits set
    ZeroInitiatorSpi,  // CKY-I / SPIi is zero
    BadLength,         // header length < 28 or beyond the datagram
    LengthMismatch,    // header length != datagram length (strict only)
    NonZeroMsgId,      // phase-1 / IKE_SA_INIT with a message ID (strict only)
};

const char* header_check_name(HeaderCheck c);

enum class Strictness : uint8_t {
    // The datagram is on a port that IKE owns: accept what Wireshark's isakmp
    // dissector would decode (known version, length within the datagram).
    Port,
    // Heuristic on an arbitrary port: every header field must be consistent.
    Heuristic,
};

HeaderCheck parse_ike_header(const uint8_t* data, size_t len, Strictness s, IkeHeader* out);

struct PayloadRef {
    uint8_t type = 0;
    uint32_t offset = 0;  // of the payload body, after its 4-byte generic header
    uint32_t length = 0;  // of the body
};

enum class ChainStatus : uint8_t {
    Complete = 0,      // walked to next-payload 0 exactly at the end
    Encrypted,         // IKEv1 E flag, or IKEv2 reached SK/SKF: the rest is opaque
    BadPayloadLength,  // a payload length < 4 or past the message end
    TrailingBytes,     // chain ended before the message length
    TooManyPayloads,   // more payloads than kMaxPayloads (the walk stopped there)
};

const char* chain_status_name(ChainStatus s);

// Facts from the clear part of one IKE message. Offsets are relative to the
// start of the IKE header.
struct IkeMessage {
    IkeHeader hdr;
    ChainStatus chain = ChainStatus::Complete;
    uint32_t chain_error_offset = 0;  // where the walk failed, if it did

    uint8_t n_payloads = 0;  // walked (at most kMaxPayloads)

    uint8_t n_vendor_ids = 0;
    PayloadRef vendor_ids[kMaxVendorIds];

    uint8_t n_natd = 0;  // IKEv1 NAT-D payloads (20, 130, 15) in order
    PayloadRef natd[kMaxNatD];

    uint8_t n_notify = 0;
    uint16_t notify_types[kMaxNotify] = {};
    PayloadRef notify_data[kMaxNotify];  // notification data only

    bool has_sa = false;
    bool has_delete = false;
    bool has_fragment = false;  // IKEv1 (132) or IKEv2 (SKF) fragmentation
    uint16_t fragment_number = 0;  // 1-based; 0: not a fragment or not readable
    // IKEv1 fragment payload (132): its message's fragment ID, the last-
    // fragment flag, and the piece of the whole message it carries.
    uint16_t fragment_id = 0;
    bool fragment_last = false;
    PayloadRef fragment_data;

    // IKEv1 phase-1 SA: the hash of the first transform, and how many
    // transforms were offered (a responder's choice has exactly one).
    uint8_t v1_hash = kHashNone;
    uint8_t v1_transforms = 0;
};

// Parse the header (with the given strictness) and walk the clear payloads.
HeaderCheck parse_ike_message(const uint8_t* data, size_t len, Strictness s, IkeMessage* out);

// What one UDP datagram is, in NAT-T terms.
enum class DatagramKind : uint8_t {
    None = 0,          // not recognised
    PlainIke,          // IKE directly in UDP (port 500 style)
    FloatedIke,        // non-ESP marker + IKE (port 4500 style)
    Keepalive,         // the single byte 0xFF
    EspInUdp,          // ESP SPI != 0 (RFC 3948)
    IkeWithoutMarker,  // IKE header on a NAT-T port pair, no marker: a broken peer
    Malformed,         // on a NAT-T port pair but none of the above
    RawEsp,            // ESP in IP (protocol 50), not in UDP: linked to the SA of its hosts
};

const char* datagram_kind_name(DatagramKind k);

enum class Malformation : uint8_t {
    None = 0,
    Empty,              // zero-length UDP payload
    TooShortForEsp,     // 2..7 bytes, not a keepalive
    OneByteNotFF,       // one byte other than 0xFF
    MarkerBadIke,       // marker followed by an invalid IKE header
    IkeHeaderInvalid,   // on an IKE port: not an IKE header
};

const char* malformation_name(Malformation m);

struct Classification {
    DatagramKind kind = DatagramKind::None;
    Malformation malformed = Malformation::None;
    HeaderCheck ike_check = HeaderCheck::Ok;
    uint32_t esp_spi = 0;
    uint32_t esp_seq = 0;
};

// A datagram on a port pair that carries NAT-T (UDP 4500, or a learned one).
Classification classify_natt_datagram(const uint8_t* data, size_t len);
// A datagram on a port pair that carries plain IKE (UDP 500, or a learned one).
Classification classify_ike_datagram(const uint8_t* data, size_t len);

// Heuristics for arbitrary ports: strict checks, no state.
bool looks_like_floated_ike(const uint8_t* data, size_t len);
bool looks_like_plain_ike(const uint8_t* data, size_t len);
inline bool is_keepalive(const uint8_t* data, size_t len) { return len == 1 && data[0] == 0xFF; }
// ESP-in-UDP on a learned NAT-T port pair: SPI must be non-zero and >= 256
// (SPIs 1-255 are reserved by IANA, RFC 4303 §2.1).
bool looks_like_esp_in_udp(const uint8_t* data, size_t len);

}  // namespace natt
