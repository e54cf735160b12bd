"""Hand-written judgement merged into ground-truth.json by build_truth.py.

NOTES[capture]   : capture-level facts (shape, oddities, must_say)
SA_NOTES[(capture, ispi)] or [(capture, '*')] : per-SA verdict and corrections.

Verdict values (closed list):
  no_nat                     all visible hashes match
  initiator_behind_nat       the hashes about the initiator's address mismatch
  responder_behind_nat       the hashes about the responder's address mismatch
  impossible_mismatch        a pattern no single capture point / NAT can produce
  peer_forcing_encapsulation a peer deliberately sends hashes that cannot match
  hashes_not_visible         no NAT-D in clear (encrypted AM3, NAT-T not negotiated,
                             IKE already on 4500, no phase 1 captured)
  not_applicable             no IKE at all
"""

V = lambda value, evidence, **kw: dict(value=value, evidence=evidence, **kw)

NOTES = {
    'arkime_IKEv1.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IPv6 only (2003:51:6012::2 <-> ::4). Frame 1 is an MM1 from ::2 '
                           'that is never answered; 25 s later ::4 starts its own main mode '
                           '(frame 2) which completes, followed by two parallel quick modes.'),
        oddities=['Frame 1: MM1 (cookie e8836b356b7c1bae) from ::2 never answered; the SA that '
                  'completes is the other direction (::4 initiator).',
                  'Two quick modes interleaved (mid 15280522 and 3459718741, frames 8-13).',
                  'ESP: one outbound SPI from ::2 (3d71315a, 148 packets) against two inbound SPIs '
                  'from ::4 (e8f1f49c, 8905e940, 74 each); sequence numbers from ::4 start at 2.'],
        must_say=['Two IKEv1 SAs: e8836b356b7c1bae (MM1 only, unanswered, initiator ::2) and '
                  '63c268011254b771/850b3a1845f947cc (initiator ::4, i.e. NOT the first speaker of the capture).',
                  'No NAT-T VID, no NAT-D, raw ESP (IP proto 50 over IPv6): no NAT-T at all.']),
    'arkime_IKEv2.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IPv6 only. Two IKEv2 SAs in opposite directions between the same '
                           'two hosts on 500/500; no NAT detection notifies at all; raw ESP.'),
        oddities=['Frame 1 (IKE_SA_INIT request from ::2, SPIi e5bc67550fd4d3ea) is re-sent '
                  'byte-identical 40 s later as frame 38 (IPv6: no IP ID) and only then answered.',
                  'Meanwhile ::4 initiated its own IKE SA 8e7779464044673e (frames 2-5): each host '
                  'is initiator of one SA and responder of the other.',
                  '2003:51:6012::2 port 500 is at the same time initiator of e5bc... and responder of '
                  '8e77...; both SAs are live (ESP on both) until the end of the capture.',
                  'Responder-originated requests (I=0,R=0): frames 32, 48, 51 on SA 8e77..., '
                  'frame 50 (CREATE_CHILD_SA from the responder of e5bc...), answered with I|R (0x28).',
                  'ESP SPI to IKE SA mapping is by timing only (both SAs share the address pair); '
                  'which CREATE_CHILD_SA of e5bc... created which ESP pair cannot be known (SK encrypted).'],
        must_say=['Roles per SA from the I flag: e5bc... initiator 2003:51:6012::2; 8e77... '
                  'initiator 2003:51:6012::4.',
                  'Frame 38 is a retransmission of frame 1 (not a new SA).',
                  'No NAT-D notify: NAT detection not negotiated; no float; raw ESP.']),
    'cisco-joy_ikev2.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='One clean IKEv2 SA on 500/500: SA_INIT, AUTH, one INFORMATIONAL.'),
        oddities=[],
        must_say=['All four NAT detection hashes match: no NAT, no float.']),
    'derived_openswan_ikev2_natt_SAINIT_AUTH.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='Synthetic (DLT_NULL, all IP IDs 0, timestamps 1 day apart), derived '
                           'from an Openswan test: initiator 93.184.216.34:55044 -> 132.213.238.7:500, '
                           'IKE_AUTH on 55045 -> 4500.'),
        oddities=['Timestamps are whole days apart (86400, 172800): synthetic.',
                  'The initiator NAT_DETECTION_SOURCE_IP hashes 192.168.1.1:500 (recovered by '
                  'search), the pre-NAT address.'],
        must_say=['Initiator behind NAT: frame 1 source hash mismatches 93.184.216.34:55044 '
                  '(it is SHA-1 over 192.168.1.1:500), the three other hashes match.',
                  'Float: initiator 55044 -> 55045 (NAT mapping of 4500), responder 500 -> 4500.']),
    'derived_openswan_v1rwnat_MM_QM_natt.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='Synthetic IKEv1 main mode + one QM1, derived from Openswan v1 rw-NAT test; '
                           'MD5 negotiated; float 55044/500 -> 55045/4500.'),
        oddities=['Timestamps whole days apart; IP IDs all 0 (synthetic).',
                  'QM1 (frame 7) is the last frame: unanswered at end of capture.'],
        must_say=['NAT-D hash algorithm is MD5 (16-byte hashes; hash attribute of the responder SA).',
                  'Initiator behind NAT: MM3 (frame 3) source hash mismatches 93.184.216.34:55044; '
                  'it is MD5 over 10.1.0.10:500 (recovered by search), the pre-NAT address.',
                  'Negotiated NAT-T method: RFC 3947 (responder MM2 VID).']),
    'ferozbaig96_isakmp.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv1 main mode + quick mode 10.0.0.233 <-> 207.171.167.234 on 500/500, '
                           'then raw ESP carrying pings (ICMP to 172.31.46.111 also visible in clear, '
                           'frames 1, 13, 16, 19, 22: replies after decapsulation on the same host).'),
        oddities=['No NAT-T VID in MM1/MM2 (only DPD + one unknown VID): NAT-T not negotiated.',
                  'Private 10.0.0.233 talks to a public address with raw ESP: a 1:1 NAT (cloud '
                  'elastic IP) cannot be excluded, but nothing in the protocol says so.'],
        must_say=['No NAT-D: verdict is "not visible / NAT-T not negotiated", not "no NAT".',
                  'ESP: raw, dee4d1d8 (initiator->responder, 4) and 7e996750 (4).']),
    'flowcontainer_l2tp.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=True, duplicates=False,
                     notes='L2TP/IPsec client 192.168.168.129 <-> 155.138.224.136, everything on '
                           '4500/4500: ESP-in-UDP from frame 1 (sequence numbers 687 and 983: '
                           'mid-tunnel), two DPD-like encrypted INFORMATIONAL pairs, keepalives.'),
        oddities=['No phase 1 in the capture: IKEv1 roles cannot be established from the protocol '
                  '(cookies only; encrypted informational exchanges carry no role).',
                  'Keepalives both ways: 192.168.168.129 -> server every 30 s (frames 293, 1585), '
                  'server -> client every 20 s (frames 587, 1841).'],
        must_say=['One IKEv1 SA 793dfa0d5a6219cc/29efa11bf5207632, roles unknown.',
                  'NAT hashes not visible (mid-tunnel); the private client address on 4500 suggests '
                  'but does not prove a NAT.',
                  'ESP-in-UDP a8e539ed (1250 packets, client->server) and ca9749d4 (1092).']),
    'mercury_emix.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='7133-frame traffic mix (IPv4/IPv6, ARP, many protocols). Its only IPsec '
                           'content is frames 3155-3208, the same conversation as '
                           'scapy_ikev2_nat_t.pcapng (same SPIs, timestamps within 1 us).'),
        oddities=['Same 3 IKEv2 SAs as scapy_ikev2_nat_t.pcapng at frames 3155-3208.',
                  'Only the IPsec frames were examined (filter udp.port==500 or udp.port==4500 or esp).'],
        must_say=['Same verdicts as scapy_ikev2_nat_t.pcapng: 3 SAs started directly on 4500, '
                  'no NAT detection notify.']),
    'ndpi_esp.pcapng': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='One IKEv2 SA (SA_INIT + AUTH) on 500/500 then one raw ESP packet each way.'),
        oddities=[],
        must_say=['All four NAT detection hashes match: no NAT; raw ESP 2360b0e3 / f0092cb5.']),
    'ndpi_ipsec_isakmp_esp.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='Concatenation of many short sessions of one IKEv2 client 192.168.2.100 '
                           '(source ports 10500/14500, sometimes 43811/42593/41618) to VPN gateways '
                           '109.237.187.x; timestamps around Jan 2000 and NOT in order (10 places). '
                           'Every SA_INIT is answered with COOKIE first.'),
        oddities=['Frames out of time order at frames 16, 77, 104, 180, 260, 287, 397, 612, 701, 751; '
                  'within one SA the IKE_AUTH frames often precede the SA_INIT frames in file order.',
                  'Frame 207: IKE_SA_INIT request with flags 0xff (reserved bits 0xc7 set, plus R and V); '
                  'RFC 7296 says receivers ignore reserved bits, the responder answered (frame 208 COOKIE).',
                  'Frame 192: IKE_AUTH whose first payload type is 127 (not SK=46): corrupted/unknown '
                  'next-payload; the responder still answered (frame 193).',
                  'Initiator on non-standard ports 10500 (IKE) and 14500 (after the float), and on '
                  'ephemeral ports 43811/42593/41618 for some SAs.',
                  'SAs 6e09515392eb66e7, 79833f4a42b4d737, d96f785e24534f17: COOKIE then '
                  'INVALID_KE_PAYLOAD (notify 17) with responder SPI 0; instead of retrying with the same '
                  'SPI (RFC 7296 s1.2) the client starts a NEW IKE SA with a new SPI from the same port '
                  '(57555a603383702d, 1723a2dd51d4bdaf, 0d300302ecdcf131), whose initiator port stays '
                  '43811/42593/41618 after the float while the responder moves 500 -> 4500.',
                  'IKE_AUTH runs over three request/response pairs (mid 1-3, EAP-style) on every '
                  'complete SA; the responder then sends an INFORMATIONAL request (flags 0x00, mid 0) '
                  'that is never answered in the capture.',
                  'All 70 SAs have their IKE_SA_INIT in the capture (always COOKIE first); 33 of them '
                  'stop after IKE_SA_INIT (no IKE_AUTH); for many SAs the IKE_AUTH frames come BEFORE the '
                  'IKE_SA_INIT frames in file order (time order is right).',
                  'Frame 207 has R (0x20) set although it is, by content and by the COOKIE reply 208, '
                  'the IKE_SA_INIT request: an analyser trusting the R bit gets it backwards.',
                  'The initiator ip:port 192.168.2.100:10500 (and :14500 after the float) is used by '
                  'dozens of SAs, but never by two at the same time: the IKE message time spans of SAs '
                  'sharing an initiator ip:port do not overlap.',
                  'Initiator source hash is SHA-1 over 192.168.3.103:10500 (recovered by search for '
                  'SA b64ef32131a48952): two NAT levels.'],
        must_say=['Every IKE_SA_INIT request has a mismatching NAT_DETECTION_SOURCE_IP and every '
                  'response a mismatching NAT_DETECTION_DESTINATION_IP; the other two match: initiator '
                  'behind NAT for every SA.',
                  'The source hash is over 192.168.3.103:10500 while the capture shows '
                  '192.168.2.100:10500: a NAT between initiator and capture point, and the responder '
                  'saw yet another address: a second NAT after the capture point.',
                  'Frame order != time order: an analyser must not take file order as protocol order.']),
    'openswan_xf88_v1certN3_ike4500_without_marker.pcap': dict(
        capture=dict(sides='one-sided', starts_mid_tunnel=True, duplicates=False,
                     notes='A single synthetic frame: IKEv1 main-mode message (encrypted, 1324 bytes, '
                           'cookies 8001020304050607/640a06435c7c4b31) sent 192.168.0.1:4500 -> '
                           '93.184.216.34:55044 WITHOUT the 4-byte non-ESP marker.'),
        oddities=['IKE on UDP 4500 without non-ESP marker (RFC 3948 violation): stock tshark shows '
                  'it as ESP with SPI 0x80010203 (the first 4 bytes of the initiator cookie).',
                  'DLT_NULL, IP ID 0, timestamp 259200 (synthetic).'],
        must_say=['The frame is IKE, not ESP: a correct analyser either says so or flags '
                  'the missing marker; ESP SPI 0x80010203 is an artefact.',
                  'Encrypted MM message from the 4500 side to a translated port: by ports, MM6 from '
                  'the responder; no hash visible.']),
    'packetgen_ikev2.pcapng': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='One IKEv2 SA_INIT + AUTH 201.25.64.1 -> 201.25.64.2 on 500/500.'),
        oddities=[],
        must_say=['All four NAT detection hashes match: no NAT.']),
    'scapy_ikev2_nat_t.pcapng': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='Three consecutive IKEv2 SAs 192.168.245.131:10954 -> 172.16.15.92:4500, '
                           'IKE_SA_INIT already on 4500 with non-ESP marker, 4 ESP-in-UDP each way per '
                           'SA, then INFORMATIONAL exchanges (likely deletes) both ways.'),
        oddities=['IKE_SA_INIT sent directly to 4500 (allowed by RFC 7296 s2.23) with NO '
                  'NAT_DETECTION_* notify at all.',
                  'The same initiator ip:port 192.168.245.131:10954 is used by three SAs one after '
                  'the other (not simultaneously: each is torn down before the next SA_INIT).',
                  'Responder-originated INFORMATIONAL requests (frames 15, 33, 51, flags 0x00) answered '
                  'with flags 0x28.'],
        must_say=['No float: the SAs start on 4500.',
                  'NAT hashes not visible (not sent); initiator source port 10954 is not 500/4500, '
                  'which suggests but does not prove address translation.']),
    'scapy_ikev2_notify_redirect.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='RFC 5685 redirect: 10.5.2.60:10952 -> gateway 10.5.2.52 gets REDIRECT '
                           '(responder SPI 0), then tries 10.5.2.53 with REDIRECTED_FROM and a new SPI, '
                           'which answers NO_PROPOSAL_CHOSEN.'),
        oddities=['Frame 2: IKE_SA_INIT response with responder SPI 0 carrying only REDIRECT '
                  '(response without an IKE SA).',
                  'Frame 4: IKE_SA_INIT response with a non-zero responder SPI but only '
                  'NO_PROPOSAL_CHOSEN (notify 14).',
                  'The same initiator ip:port 10.5.2.60:10952 is used by both SAs (sequentially).',
                  'Source hashes are SHA-1 over 192.168.20.135:10952 (recovered by search).'],
        must_say=['Two IKE SAs (two initiator SPIs): 88694881497528ad -> 10.5.2.52 and '
                  '1c88ee0b7793d52e -> 10.5.2.53; the second is the redirected continuation.',
                  'Source hash mismatch in both requests: initiator behind NAT (by the hashes); '
                  'destination hashes match.']),
    'suricata-verify_detect-bypass-udp.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=True, duplicates=True,
                     notes='Every frame captured twice (same bytes, same IP ID, 1-30 us apart): 33 '
                           'unique messages. IKEv2 192.168.0.3:4500 <-> 192.168.0.2:4500 starting at '
                           'message id 1: IKE_INTERMEDIATE (exchange 43, RFC 9242) mid 1-3, then '
                           'IKE_AUTH mid 4; IKE_SA_INIT not captured.'),
        oddities=['Exchange type 43 = IKE_INTERMEDIATE (RFC 9242); stock Wireshark 4.0 does not name it.',
                  'RFC 7383 fragments (SKF): mid 2 3+3 fragments, mid 3 4+7, mid 4 7+7.',
                  'Every frame duplicated by the capture (not retransmissions: same IP ID, microseconds).'],
        must_say=['33 duplicates, 0 retransmissions.',
                  'Starts mid-SA (no IKE_SA_INIT): no hashes visible; both peers on 4500 without a '
                  'visible float.']),
    'tcpdump_ISAKMP_sa_setup.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv1 MM + QM 10.0.0.1 <-> 10.0.0.2 on 500/500, NAT-T draft-07 negotiated.'),
        oddities=['NAT-D carried with payload type 15 (the pre-RFC draft number); stock Wireshark 4.0 '
                  'decodes 15 as "SA KEK Payload" (GDOI). The SHA-1 hashes verify with type 15 read as NAT-D.'],
        must_say=['NAT-T method: draft-ietf-ipsec-nat-t-ike-07 (responder MM2 VID).',
                  'All four NAT-D hashes match: no NAT.']),
    'tcpdump_espudp1.pcap': dict(
        capture=dict(sides='one-sided', starts_mid_tunnel=True, duplicates=False,
                     notes='8 ESP-in-UDP packets 192.1.2.23:4500 -> 192.1.2.45:4500, SPI 0x12345678, '
                           'sequence 1-8, all timestamps 0; no IKE at all.'),
        oddities=['No IKE SA: the ESP SPI cannot be tied to any IKE SA.',
                  'All timestamps 0.'],
        must_say=['0 IKE SAs; one ESP-in-UDP SPI 12345678, 8 packets, one direction.']),
    'tcpdump_ikev2four.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=True, duplicates=False,
                     notes='IKEv2 192.168.1.2 -> 192.168.1.1 on 500/500 (2007, DLT_NULL): COOKIE '
                           'round trip, AUTH, 7 CREATE_CHILD_SA pairs with two requests outstanding at '
                           'a time, then an INFORMATIONAL on a different IKE SA whose setup is not in '
                           'the capture.'),
        oddities=['All six NAT detection hashes mismatch although both peers are on 500 and nothing '
                  'floats: no NAT placement produces this; probably a pre-RFC implementation '
                  '(hash computed differently) or addresses rewritten in the test capture.',
                  'Frame 21: INFORMATIONAL request (mid 0) on IKE SA 1d9be9451d4f97a8/64a2a4b5d0e17b6a '
                  'never set up in the capture, never answered.',
                  'Window > 1: CREATE_CHILD_SA requests mid 2 and 3 (and 4/5, 6/7) sent before the '
                  'first response.'],
        must_say=['Frame 2 is a COOKIE response (responder SPI 0), frame 3 the retry with the cookie: '
                  'not a retransmission.',
                  'Verdict must NOT be "initiator/responder behind NAT": all four hashes mismatch.']),
    'tcpdump_isakmp-3948-oobr-2.pcap': dict(
        capture=dict(sides='n/a', starts_mid_tunnel=False, duplicates=False,
                     notes='Fuzzer regression file: one frame of 42 captured bytes (original length '
                           '262144), bytes mostly 0x30; IPv4 48.48.48.48 -> 48.48.48.48 UDP 4500 -> 12336 '
                           'with no UDP payload captured.'),
        oddities=['Truncated/malformed: UDP length 12336 > IP payload; no IKE, no ESP content.'],
        must_say=['No IKE SA, no ESP, no keepalive; must not crash.']),
    'tcpdump_isakmp-rfc3948-oobr.pcap': dict(
        capture=dict(sides='n/a', starts_mid_tunnel=False, duplicates=False,
                     notes='Fuzzer regression file: 23 frames of 42 captured bytes (original length '
                           '262144); frames 1-22 are garbage Ethernet (ethertype 0x3030), frame 23 is '
                           'the same malformed UDP 4500 -> 12336 frame as tcpdump_isakmp-3948-oobr-2.'),
        oddities=['All frames truncated; all timestamps equal.'],
        must_say=['No IKE SA, no ESP; must not crash.']),
    'tcpdump_isakmp4500.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='Libreswan/Openswan test: road 192.1.3.209 behind NAT 192.1.2.254 '
                           '(port-preserving) -> east 192.1.2.23. IKEv1 MM (MD5) floats to 4500/4500 '
                           'at MM5; one QM; ESP-in-UDP one way; keepalives; all timestamps 0, IKE IP IDs 0.'),
        oddities=['All timestamps 0 and IKE IP IDs 0: retransmission vs capture duplicate can only be '
                  'told by intervening frames. QM2 (frame 10) re-sent as frames 15, 20, 30 and QM3 '
                  '(frame 11) as 16, 21, with ESP/keepalive/ARP frames between: retransmissions.',
                  'MM3 source hash is MD5 over 192.1.3.209:500 (recovered): the initiator real address.',
                  'ESP only initiator->responder (SPI f4dc0ae5, 8 packets).',
                  'Keepalive interval cannot be measured (timestamps 0).'],
        must_say=['Initiator behind NAT (MM3 source hash mismatch; responder MM4 hashes match the '
                  'translated address 192.1.2.254:500).',
                  'Float at frame 7: 192.1.2.254:4500 <-> 192.1.2.23:4500 (NAT preserved ports).',
                  'Keepalives 18, 23, 28, 34 initiator->responder.']),
    'ukncsc_ikev2.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv2 172.16.158.1:63995 -> 172.16.158.142:500: INVALID_KE_PAYLOAD (responder '
                           'SPI 0), retry with another KE group, response, float to 53725 -> 4500, '
                           'IKE_AUTH request in two RFC 7383 fragments, single SK response.'),
        oddities=['Frame 2: response without IKE SA (responder SPI 0, INVALID_KE_PAYLOAD).',
                  'Initiator source port 63995 and after the float 53725: neither 500 nor 4500.'],
        must_say=['One IKE SA (same SPIi across the INVALID_KE retry).',
                  'Initiator behind NAT: the request source hash mismatches 172.16.158.1:63995 '
                  '(both frames 1 and 3); responder hashes match.',
                  'Frames 5+6 are fragments 1/2 and 2/2 of one IKE_AUTH request.']),
    'zeekspicy_ikev1-certs.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv1 MM with certificates 192.168.12.118 -> 172.16.1.103 (Netscreen) on '
                           '500/500, QM with a retransmitted QM1.'),
        oddities=['Responder MM2 carries 7 NAT-T VIDs although the initiator MM1 sent none '
                  '(unsolicited): NAT-T not negotiated, no NAT-D.',
                  'Initiator IP ID always 0: QM1 frame 8 is byte-identical to frame 7 with the same '
                  'IP ID 0 but 10 s later: a retransmission, not a duplicate.',
                  'MM5/MM6 are 1764/1932 bytes (certificates) without IP fragmentation in the capture.'],
        must_say=['Hashes not visible: NAT-T not negotiated (not "no NAT").',
                  'Frame 8 retransmission of frame 7.']),
    'zeekspicy_ipsec-ikev1-isakmp-aggressive-mode.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv1 aggressive mode 192.168.12.1 -> 192.168.12.2 on 500/500, NAT-T RFC 3947 '
                           'negotiated, AM3 encrypted, then QM.'),
        oddities=['Only the responder NAT-D (AM2) is visible; AM3 is encrypted.'],
        must_say=['Responder AM2 hashes both match; the initiator hashes (AM3) are not visible; no float '
                  'and initiator on 500: consistent with no NAT.']),
    'zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv1 MM + QM 192.168.12.1 -> 192.168.12.2 on 500/500, NAT-T RFC 3947.'),
        oddities=[],
        must_say=['All four NAT-D hashes (SHA-1) match: no NAT.']),
    'zeekspicy_ipsec.cap': dict(
        capture=dict(sides='two-sided', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv1 MM + QM 192.168.140.205 -> 192.168.140.200 on 500/500, RFC 3947, then '
                           'raw ESP both ways. All IP IDs 0.'),
        oddities=['Frame 3: initiator sends an unencrypted Informational NO-PROPOSAL-CHOSEN with '
                  'responder cookie 0 right after MM2; the responder re-sends MM2 10 s later (frame 4, '
                  'byte-identical, IP ID 0 like every frame) and the exchange then completes.',
                  'NAT-T negotiated (RFC 3947) and hashes match, so ESP stays raw (proto 50).'],
        must_say=['Frame 4 is a retransmission of frame 2 (10 s), not a duplicate, despite identical IP ID 0.',
                  'All four NAT-D hashes match: no NAT.']),
    'zeekspicy_ipsec_client.pcap': dict(
        capture=dict(sides='one-sided after SA_INIT', starts_mid_tunnel=False, duplicates=False,
                     notes='IKEv2 client 192.168.0.10 -> 144.76.154.114: SA_INIT on 500, then IKE_AUTH '
                           '(3468 bytes, IP-fragmented in 3 frames) on 4500 sent three times at 1 s '
                           'intervals, never answered.'),
        oddities=['IKE_AUTH is IP-fragmented (frames 3,4,5 / 6,7,8 / 9,10,11), not RFC 7383 fragmented.',
                  'No response to IKE_AUTH in the capture.'],
        must_say=['Initiator behind NAT: responder NAT_DETECTION_DESTINATION_IP (frame 2) mismatches '
                  '192.168.0.10:500; the initiator own hashes match: capture taken at the client, '
                  'inside the NAT.',
                  'Float to 4500/4500 at frame 5; frames 8 and 11 are retransmissions of 5; request 5 '
                  'unanswered.']),
}

SA_NOTES = {
    ('arkime_IKEv1.pcap', 'e8836b356b7c1bae'): dict(verdict=V(
        'hashes_not_visible', 'MM1 only, no NAT-T VID, never answered.')),
    ('arkime_IKEv1.pcap', '63c268011254b771'): dict(verdict=V(
        'hashes_not_visible', 'No NAT-T VID in MM1/MM2, no NAT-D, raw ESP: NAT-T not negotiated; '
        'both on 500, no float.')),
    ('arkime_IKEv2.pcap', '*'): dict(verdict=V(
        'hashes_not_visible', 'No NAT_DETECTION_* notify in either IKE_SA_INIT: NAT detection '
        'not negotiated; 500/500 throughout, raw ESP.')),
    ('cisco-joy_ikev2.pcap', '*'): dict(verdict=V('no_nat', '4/4 hashes match (frames 1, 2).')),
    ('derived_openswan_ikev2_natt_SAINIT_AUTH.pcap', '*'): dict(verdict=V(
        'initiator_behind_nat', 'frame 1 src mismatch (hash is over 192.168.1.1:500), frame 1 dst '
        'and frame 2 src/dst match; initiator on 55044 then 55045; float to 4500.')),
    ('derived_openswan_v1rwnat_MM_QM_natt.pcap', '*'): dict(verdict=V(
        'initiator_behind_nat', 'MD5 NAT-D: MM3 src mismatch (hash over 10.1.0.10:500), MM3 dst and MM4 src/dst match; initiator '
        'on port 55044 (not 500) and floats to 55045.')),
    ('ferozbaig96_isakmp.pcap', '*'): dict(verdict=V(
        'hashes_not_visible', 'NAT-T not negotiated (no NAT-T VID), no NAT-D; 500/500, raw ESP.')),
    ('flowcontainer_l2tp.pcap', '*'): dict(
        roles_source='unknown: phase 1 not captured (IKEv1 has no initiator flag); initiator/responder '
                     'fields are only the first sender/receiver',
        verdict=V('hashes_not_visible', 'Mid-tunnel: only encrypted INFORMATIONAL, ESP-in-UDP and '
                  'keepalives on 4500/4500. Client address is private (192.168.168.129) and sends '
                  'keepalives, which suggests the client is behind a NAT; not provable here.')),
    ('mercury_emix.pcap', '*'): dict(verdict=V(
        'hashes_not_visible', 'IKE_SA_INIT sent straight to 4500 without NAT_DETECTION_* notifies; '
        'initiator source port 10954.')),
    ('ndpi_esp.pcapng', '*'): dict(verdict=V('no_nat', '4/4 hashes match (frames 1, 2); raw ESP.')),
    ('ndpi_ipsec_isakmp_esp.pcap', '*'): dict(verdict=V(
        'initiator_behind_nat', 'Every request: src mismatch / dst match; every response: src match / '
        'dst mismatch. The source hash of SA b64ef32131a48952 is over 192.168.3.103:10500 (a NAT before '
        'the capture point); the responder saw a third address (a NAT after it). Float 10500/500 -> '
        '14500/4500 (or ephemeral port -> 4500).')),
    ('openswan_xf88_v1certN3_ike4500_without_marker.pcap', '*'): dict(
        roles_source='ports: sent from 4500 to the translated port 55044 of the derived_openswan '
                     'conversation with the same cookies, so sender = responder; unprovable from this '
                     'frame alone',
        initiator={'ip': '93.184.216.34', 'port': 55044},
        responder={'ip': '192.168.0.1', 'port': 4500},
        messages=[{'frame': 1, 'what': 'MM6 (encrypted main-mode message, by direction from the '
                   'responder) on UDP 4500 WITHOUT non-ESP marker', 'src': '192.168.0.1:4500',
                   'dst': '93.184.216.34:55044', 'retransmission_of': None, 'duplicate_of': None,
                   'fragment_of': None}],
        unanswered_request_frames=[],
        verdict=V('hashes_not_visible', 'Single encrypted MM message; marker missing.')),
    ('packetgen_ikev2.pcapng', '*'): dict(verdict=V('no_nat', '4/4 hashes match (frames 1, 2).')),
    ('scapy_ikev2_nat_t.pcapng', '*'): dict(verdict=V(
        'hashes_not_visible', 'IKE_SA_INIT sent straight to 4500 without NAT_DETECTION_* notifies; '
        'initiator source port 10954 (translation possible, not provable).')),
    ('scapy_ikev2_notify_redirect.pcap', '*'): dict(verdict=V(
        'initiator_behind_nat', 'Request src hash mismatches 10.5.2.60:10952 (it is over '
        '192.168.20.135:10952), dst hash matches; the responses carry no hashes (REDIRECT / '
        'NO_PROPOSAL_CHOSEN only), so the responder side is unconfirmed.')),
    ('suricata-verify_detect-bypass-udp.pcap', '*'): dict(verdict=V(
        'hashes_not_visible', 'IKE_SA_INIT not captured; everything on 4500/4500.')),
    ('tcpdump_ISAKMP_sa_setup.pcap', '*'): dict(verdict=V(
        'no_nat', '4/4 SHA-1 hashes (payload type 15) match in MM3/MM4.')),
    ('tcpdump_ikev2four.pcap', 'a88875a8198992a6'): dict(verdict=V(
        'impossible_mismatch', 'All hashes mismatch in frames 1, 3 (request src+dst) and 4 (response '
        'src+dst) while both peers stay on 500 without float: no NAT placement produces a '
        'mismatch of the hashes of both ends in both directions.')),
    ('tcpdump_ikev2four.pcap', '1d9be9451d4f97a8'): dict(
        verdict=V('hashes_not_visible', 'Only one encrypted INFORMATIONAL; SA set up before the capture.')),
    ('tcpdump_isakmp4500.pcap', '*'): dict(verdict=V(
        'initiator_behind_nat', 'MM3 src mismatch (MD5 over 192.1.3.209:500, the real road address), '
        'MM3 dst and MM4 src/dst match; float to 4500/4500; keepalives from the initiator.')),
    ('ukncsc_ikev2.pcap', '*'): dict(verdict=V(
        'initiator_behind_nat', 'frames 1 and 3: src mismatch / dst match; frame 4: src and dst match; '
        'initiator on 63995, float to 53725/4500.')),
    ('zeekspicy_ikev1-certs.pcap', '*'): dict(verdict=V(
        'hashes_not_visible', 'Initiator sent no NAT-T VID: NAT-T not negotiated, no NAT-D; 500/500.')),
    ('zeekspicy_ipsec-ikev1-isakmp-aggressive-mode.pcap', '*'): dict(verdict=V(
        'no_nat', 'AM2 (responder) hashes both match; AM3 encrypted so the initiator hashes are not '
        'visible; no float, initiator on 500.', confidence='partial: responder side only')),
    ('zeekspicy_ipsec-ikev1-isakmp-main-mode.pcap', '*'): dict(verdict=V(
        'no_nat', '4/4 SHA-1 hashes match in MM3/MM4.')),
    ('zeekspicy_ipsec.cap', '*'): dict(verdict=V('no_nat', '4/4 SHA-1 hashes match in MM3/MM4.')),
    ('zeekspicy_ipsec_client.pcap', '*'): dict(verdict=V(
        'initiator_behind_nat', 'frame 1 src/dst match (capture at the client); frame 2 dst mismatch '
        '(the responder saw the client at another address); float to 4500 at frame 5.')),
}


def merge(name, t):
    n = NOTES.get(name)
    if n is None:
        raise SystemExit('no hand notes for %s' % name)
    for k, v in n.items():
        t[k] = v
    for sa in t['sas']:
        s = SA_NOTES.get((name, sa['ispi'])) or SA_NOTES.get((name, '*'))
        if s is None:
            raise SystemExit('no verdict for %s %s' % (name, sa['ispi']))
        for k, v in s.items():
            sa[k] = v
    if not t['sas']:
        t['verdict'] = V('not_applicable', 'no IKE in the capture')
