#!/usr/bin/env python3
"""Issue 20: IKE and ESP over TCP (RFC 8229). On the lab's TCP scenarios
(real libreswan peers through the NAT) every IKE message carries its SA and
every byte of the stream is framed; on a capture re-framed from a real
IKEv2 SA with ESP (test-captures/lab/tools/tcp-reframe.py, made here) every
isakmp.* and esp.* value equals what Wireshark shows for the same message
over UDP; the fallback from UDP is flagged and linked; the TCP streams of the
non-IKE corpus are never taken."""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import nattlib as n

REFRAME = os.path.join(n.SOURCE_DIR, "test-captures", "lab", "tools", "tcp-reframe.py")
# A real IKEv2 SA with ESP-in-UDP (strongSwan, kernel-libipsec) to re-frame.
SOURCE = "07-ikev2-nat.outside.pcap"


def first_sa():
    """The first client's IKE SA in SOURCE's truth file: what is re-framed."""
    with open(os.path.join(n.CAPTURES_DIR, SOURCE.replace(".outside.pcap", ".truth.json"))) as f:
        sas = json.load(f)["ike_sas"]
    return next(sa for sa in sas if sa["initiator"]["outside"].endswith(":500"))


def first_sa_messages():
    """(ispi, ESP SPIs as 0x..., number of its IKE and ESP messages in SOURCE)."""
    sa = first_sa()
    spis = {"0x" + c[k] for c in sa["child_sas"] for k in ("initiator_spi", "responder_spi")}
    return sa["icookie"], spis


def source_initiators():
    """The outside "ip:ikeport,nattport" of each initiator of SOURCE, from its
    truth file (the NAT picks the second client's ports anew at every lab run)."""
    with open(os.path.join(n.CAPTURES_DIR, SOURCE.replace(".outside.pcap", ".truth.json"))) as f:
        sas = json.load(f)["ike_sas"]
    out = []
    for sa in sas:
        ike = sa["initiator"]["outside"]
        natt = sa["initiator_float"]["outside"]
        out.append(ike + "," + natt.rsplit(":", 1)[1])
    return out


# The first client keeps 500/4500 on the outside; the second is remapped.
FIRST_INITIATOR, SECOND_INITIATOR = sorted(source_initiators(), key=lambda e: not e.endswith(":500,4500"))[:2]
SOURCE_PEERS = ["--initiator", FIRST_INITIATOR, "--responder", "203.0.113.10"]


def tcp_truths():
    out = []
    for p in n.truth_files():
        t = n.load_truth(p)
        if any(sa.get("transport") == "tcp" for sa in t["ike_sas"]):
            out.append(t)
    return out


def captures_of(truth):
    for side, name in sorted(truth["captures"].items()):
        path = os.path.join(n.CAPTURES_DIR, name)
        if os.path.exists(path):
            yield side, path


def reframe(out, *extra):
    src = os.path.join(n.CAPTURES_DIR, SOURCE)
    subprocess.run([sys.executable, REFRAME, src, out] + SOURCE_PEERS + list(extra), check=True,
                   capture_output=True)
    os.chmod(out, 0o644)


def layers(capture, stock=False, extra=()):
    """[(frame, {proto: layer})] in frame order, one entry per isakmp/esp
    message (several messages of one TCP segment are listed in order)."""
    out = n.tshark(["-r", capture, "-T", "json", "-J", "frame isakmp esp"] + list(extra), stock=stock)
    msgs = []
    for pkt in json.loads(out or "[]"):
        lay = pkt["_source"]["layers"]
        num = int(lay["frame"]["frame.number"])
        for proto in ("isakmp", "esp"):
            v = lay.get(proto)
            if v is None:
                continue
            for one in (v if isinstance(v, list) else [v]):
                msgs.append((num, proto, one))
    return msgs


class LabTcpScenarios(unittest.TestCase):
    def setUp(self):
        self.truths = tcp_truths()
        if not self.truths:
            self.skipTest("no IKE-over-TCP lab scenario in test-captures/")

    def test_every_ike_message_carries_its_sa(self):
        for truth in self.truths:
            for side, cap in captures_of(truth):
                with self.subTest(scenario=truth["scenario"], side=side):
                    rows = n.fields(cap, ["frame.number", "natt.sa", "isakmp.ispi", "isakmp.rspi", "natt.kind"],
                                    "tcp and isakmp", two_pass=True)
                    self.assertTrue(rows, "no IKE over TCP in %s" % cap)
                    sa_of = {}
                    for num, sa, ispi, rspi, kind in rows:
                        self.assertNotEqual(sa, "", "frame %s: IKE over TCP without natt.sa" % num)
                        self.assertEqual(set(kind.split(",")), {"2"}, "frame %s kind %s" % (num, kind))
                        sa_of.setdefault(ispi.split(",")[0], set()).update(sa.split(","))
                    tcp_sas = [sa for sa in truth["ike_sas"] if sa.get("transport") == "tcp"]
                    for sa in tcp_sas:
                        self.assertIn(sa["icookie"], sa_of, "TCP SA %s not seen" % sa["icookie"])
                        self.assertEqual(len(sa_of[sa["icookie"]]), 1, "SA %s split: %s" % (
                            sa["icookie"], sa_of[sa["icookie"]]))

    def test_every_stream_byte_framed(self):
        """The prefix and the frames natt shows cover every TCP payload byte
        of the IKE connections: nothing skipped, nothing framed twice."""
        for truth in self.truths:
            for side, cap in captures_of(truth):
                with self.subTest(scenario=truth["scenario"], side=side):
                    seg = n.fields(cap, ["tcp.stream", "tcp.len"], "tcp.port == 4500 and tcp.len > 0")
                    framed = n.fields(cap, ["tcp.stream", "natt.tcp.length", "natt.tcp.prefix"], "natt.tcp.length or natt.tcp.prefix")
                    sent, seen = {}, {}
                    for stream, length in seg:
                        sent[stream] = sent.get(stream, 0) + int(length)
                    for stream, lengths, prefix in framed:
                        seen[stream] = seen.get(stream, 0) + sum(int(x) for x in lengths.split(",") if x)
                        seen[stream] += 6 * len([p for p in prefix.split(",") if p])
                    self.assertTrue(sent)
                    # The merged capture holds each stream twice (both sides of the NAT): TCP numbers them apart.
                    self.assertEqual(seen, sent)

    def test_table_says_tcp(self):
        for truth in self.truths:
            for side, cap in captures_of(truth):
                if side not in ("inside", "outside"):
                    continue
                with self.subTest(scenario=truth["scenario"], side=side):
                    out = n.tshark(["-r", cap, "-q", "-2", "-z", "natt,sa"])
                    for sa in truth["ike_sas"]:
                        if sa.get("transport") != "tcp" or not sa["initiator"].get(side):
                            continue
                        row = [l for l in out.splitlines() if sa["icookie"] in l]
                        self.assertEqual(len(row), 1, out)
                        self.assertIn(sa["initiator"][side] + "/tcp", row[0])
                        self.assertIn(sa["responder"][side] + "/tcp", row[0])

    def test_nat_mapping_of_the_connection(self):
        """Both sides of the NAT in one capture: the NAT's TCP mapping, as
        conntrack made it (truth), reconstructed from the twins."""
        for truth in self.truths:
            merged = truth["captures"].get("merged")
            if not merged:
                continue
            with self.subTest(scenario=truth["scenario"]):
                out = n.tshark(["-r", os.path.join(n.CAPTURES_DIR, merged), "-q", "-2", "-z", "natt,mappings"])
                rows = [[c.strip() for c in l.split("|")] for l in out.splitlines() if "| TCP " in l or "|TCP " in l]
                for sa in truth["ike_sas"]:
                    if sa.get("transport") != "tcp":
                        continue
                    want = (sa["initiator"]["inside"], sa["initiator"]["outside"])
                    self.assertIn(want, [(r[3], r[4]) for r in rows], out)
                    tcp_nat = [m for m in truth["nat"][0]["mappings"] if m["proto"] == "tcp"]
                    self.assertIn(want, [(m["inside"], m["outside"]) for m in tcp_nat])

    def test_healthy_tcp_has_no_warning(self):
        for truth in self.truths:
            if truth.get("faults"):
                continue
            for side, cap in captures_of(truth):
                with self.subTest(scenario=truth["scenario"], side=side):
                    rows = n.fields(cap, ["frame.number", "_ws.expert.message"],
                                    "_ws.expert.severity >= 6291456 and natt", two_pass=True)
                    self.assertEqual(rows, [])

    def test_fallback_flagged_and_linked(self):
        checked = 0
        for truth in self.truths:
            for fault in truth.get("faults", []):
                if fault["kind"] != "tcp_fallback":
                    continue
                cap = os.path.join(n.CAPTURES_DIR, fault["capture"])
                with self.subTest(scenario=truth["scenario"]):
                    first = str(fault["frames"][0])
                    for two in (False, True):
                        rows = n.fields(cap, ["frame.number", "natt.tcp.fallback_from"], "natt.tcp.fallback",
                                        two_pass=two)
                        self.assertEqual([r[0] for r in rows], [first])
                        # Linked to the first UDP IKE_SA_INIT request of the same initiator.
                        udp = n.fields(cap, ["frame.number"], "udp.dstport == 500 and isakmp", stock=True)
                        self.assertEqual(rows[0][1], udp[0][0])
                    # The other side of the NAT never saw UDP: nothing to flag there.
                    if fault.get("twin_capture"):
                        other = os.path.join(n.CAPTURES_DIR, fault["twin_capture"])
                        self.assertEqual(n.fields(other, ["frame.number"], "natt.tcp.fallback"), [])
                    checked += 1
        if not checked:
            self.skipTest("no tcp_fallback scenario")


class ReframedEsp(unittest.TestCase):
    """Constructed: ESP over TCP cannot be captured here (no kernel ESP)."""

    def setUp(self):
        if not os.path.exists(os.path.join(n.CAPTURES_DIR, SOURCE)):
            self.skipTest("lab capture %s absent" % SOURCE)
        self.tmp = tempfile.mkdtemp(prefix="natt-tcp-")
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def expected_messages(self):
        """The first SA's IKE and ESP messages in the UDP source, as stock
        Wireshark decodes them: what the re-framed stream must carry."""
        ispi, spis = first_sa_messages()
        src = os.path.join(n.CAPTURES_DIR, SOURCE)
        return sum(1 for _, p, m in layers(src, stock=True)
                   if (p == "isakmp" and m.get("isakmp.ispi", "").replace(":", "") == ispi)
                   or (p == "esp" and m.get("esp.spi") in spis))

    def test_fields_equal_udp(self):
        for variant, extra in (("split", ["--split-every", "3"]), ("prefix-with-first", ["--prefix-with-first",
                                                                                       "--split-every", "2"])):
            with self.subTest(variant=variant):
                tcp = os.path.join(self.tmp, variant + ".pcap")
                reframe(tcp, *extra)
                src = os.path.join(n.CAPTURES_DIR, SOURCE)
                ispi, spis = first_sa_messages()
                udp_msgs = [(p, m) for _, p, m in layers(src, stock=True)
                            if p == "esp" or m.get("isakmp.ispi", "").replace(":", "") == ispi]
                # The UDP SA's own messages, in order (ESP of the first client's SPIs only).
                tcp_msgs = [(p, m) for _, p, m in layers(tcp)]
                udp_own = [(p, m) for p, m in udp_msgs
                           if p == "isakmp" or m.get("esp.spi") in spis]
                self.assertGreaterEqual(len(udp_own), 8)  # IKE_SA_INIT, IKE_AUTH, ESP both ways, DPD
                self.assertEqual(len(tcp_msgs), len(udp_own), [p for p, _ in tcp_msgs])
                for (tp, tm), (up, um) in zip(tcp_msgs, udp_own):
                    self.assertEqual(tp, up)
                    self.assertEqual(tm, um)

    def test_every_message_in_one_sa(self):
        tcp = os.path.join(self.tmp, "t.pcap")
        reframe(tcp)
        for two in (False, True):
            rows = n.fields(tcp, ["frame.number", "natt.sa", "natt.kind"], "isakmp or esp", two_pass=two)
            self.assertEqual(len(rows), self.expected_messages())
            self.assertEqual({r[1] for r in rows}, {"1"}, rows)
            kinds = {k for r in rows for k in r[2].split(",")}
            self.assertEqual(kinds, {"2", "4"})
        out = n.tshark(["-r", tcp, "-q", "-2", "-z", "natt,sa"])
        # Each SPI with as many packets as the UDP source has of it.
        _, spis = first_sa_messages()
        src = os.path.join(n.CAPTURES_DIR, SOURCE)
        counts = {}
        for _, p, m in layers(src, stock=True):
            if p == "esp" and m.get("esp.spi") in spis:
                counts[m["esp.spi"]] = counts.get(m["esp.spi"], 0) + 1
        self.assertEqual(set(counts), spis)
        for spi, count in counts.items():
            self.assertIn("%s(%d)" % (spi[2:], count), out)
        self.assertIn("198.51.100.1:40001/tcp", out)

    def test_heuristic_any_port_and_switchable(self):
        tcp = os.path.join(self.tmp, "p.pcap")
        reframe(tcp, "--client-port", "50123", "--server-port", "443", "--prefix-with-first")
        rows = n.fields(tcp, ["natt.recognised_by"], "natt.sa")
        self.assertEqual(len(rows), self.expected_messages())
        self.assertEqual({r[0].split(",")[0] for r in rows}, {"9"})
        off = n.fields(tcp, ["frame.number"], "natt", extra=["--disable-heuristic", "natt_iketcp_tcp"])
        self.assertEqual(off, [])
        # On the port preference without the heuristic: the prefix is there, natt frames by port.
        reframe(tcp, "--prefix-with-first")
        rows = n.fields(tcp, ["natt.recognised_by"], "natt.sa", extra=["--disable-heuristic", "natt_iketcp_tcp"])
        self.assertEqual({r[0].split(",")[0] for r in rows}, {"8"})

    def test_fallback_constructed(self):
        tcp = os.path.join(self.tmp, "f.pcap")
        subprocess.run([sys.executable, REFRAME, os.path.join(n.CAPTURES_DIR, SOURCE), tcp, "--initiator",
                        SECOND_INITIATOR, "--responder", "203.0.113.10", "--unanswered-from",
                        FIRST_INITIATOR.split(",")[0]], check=True, capture_output=True)
        os.chmod(tcp, 0o644)
        for two in (False, True):
            rows = n.fields(tcp, ["frame.number", "natt.tcp.fallback_from", "natt.sa"], "natt.tcp.fallback",
                            two_pass=two)
            self.assertEqual(len(rows), 1)
            self.assertEqual(rows[0][1], "1")
            self.assertEqual(rows[0][2], "2")

    def test_bad_input(self):
        """IKETCP then garbage, a length of 0, a frame longer than the
        stream holds: expert infos, no crash, nothing claimed as an SA."""
        tcp = os.path.join(self.tmp, "g.pcap")
        reframe(tcp)
        with open(tcp, "rb") as f:
            data = bytearray(f.read())
        # The 6th record (the first frame after the prefix, IKE_SA_INIT):
        # zero its length field.
        off, rec = 24, 0
        while rec < 4:
            incl = int.from_bytes(data[off + 8:off + 12], "little")
            off += 16 + incl
            rec += 1
        tcp_payload = off + 16 + 40
        data[tcp_payload:tcp_payload + 2] = b"\x00\x00"
        bad = os.path.join(self.tmp, "bad.pcap")
        with open(bad, "wb") as f:
            f.write(data)
        os.chmod(bad, 0o644)
        rows = n.fields(bad, ["frame.number", "_ws.expert.message"], "natt.tcp.bad_length || natt.tcp.unframed")
        self.assertTrue(rows, "no expert info for a zero length")
        self.assertEqual(n.fields(bad, ["frame.number"], "natt.sa and tcp.srcport == 40001"), [])


def on_ethernet(src, out, ipv6):
    """The raw-IPv4 capture src as Ethernet frames, its packets kept as IPv4
    or made IPv6 (2001:db8::a.b.c.d; TCP checksums left as they are)."""
    with open(src, "rb") as f:
        data = f.read()
    res = bytearray(data[:20] + struct.pack("<I", 1))
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        ip = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if ipv6:
            ihl = (ip[0] & 15) * 4
            prefix = bytes.fromhex("20010db8") + bytes(8)
            pkt = b"\x86\xdd" + struct.pack("!IHBB", 0x60000000, len(ip) - ihl, ip[9], 64) + \
                prefix + ip[12:16] + prefix + ip[16:20] + ip[ihl:]
        else:
            pkt = b"\x08\x00" + ip
        pkt = b"\x02" * 6 + b"\x04" * 6 + pkt
        res += struct.pack("<IIII", sec, usec, len(pkt), len(pkt)) + pkt
    with open(out, "wb") as f:
        f.write(res)
    os.chmod(out, 0o644)


class ConnectionEnd(unittest.TestCase):
    """A connection closed or reset while a frame is incomplete gets
    natt.tcp.cut on the FIN or RST (a segment TCP hands to no subdissector);
    a connection closed between frames gets nothing; connections past the
    budget get natt.tcp.connections_full. One pass and two say the same."""

    setUp = ReframedEsp.setUp
    tearDown = ReframedEsp.tearDown

    def expected_cut(self, cap, flag):
        """(FIN or RST frame, frame where the cut message starts, bytes missing),
        from stock Wireshark's TCP fields."""
        end = n.fields(cap, ["frame.number"], "tcp.flags.%s == 1" % flag, stock=True)[0][0]
        # tcp-reframe.py sends the cut frame's first half in two segments.
        first, second = n.fields(cap, ["frame.number", "tcp.len", "tcp.payload"], "tcp.len > 0", stock=True)[-2:]
        length = int(first[2].replace(":", "")[:4], 16)
        return [end, first[0], str(length - int(first[1]) - int(second[1]))]

    def test_cut_mid_frame(self):
        for how, flag in (("fin", "fin"), ("rst", "reset"), ("peer-rst", "reset")):
            with self.subTest(cut=how):
                cap = os.path.join(self.tmp, how + ".pcap")
                reframe(cap, "--cut", how)
                want = self.expected_cut(cap, flag)
                for two in (False, True):
                    for extra in ((), ("-o", "tcp.analyze_sequence_numbers:FALSE")):
                        rows = n.fields(cap, ["frame.number", "natt.tcp.cut_frame_start", "natt.tcp.cut_missing"],
                                        "natt.tcp.cut", two_pass=two, extra=extra)
                        self.assertEqual(rows, [want], (two, extra))
                    # Without a tree (only the expert tap): the same expert, once.
                    out = n.tshark(["-r", cap, "-q", "-z", "expert"] + (["-2"] if two else []))
                    said = [l for l in out.splitlines() if "mid-frame" in l]
                    self.assertEqual(len(said), 1, out)
                    self.assertIn("starts in frame %s" % want[1], said[0])
                    self.assertIn("last %s bytes" % want[2], said[0])
                # The same connection on Ethernet, over IPv4 and IPv6.
                for ipv6 in (False, True):
                    eth = os.path.join(self.tmp, "%s-eth%d.pcap" % (how, ipv6))
                    on_ethernet(cap, eth, ipv6)
                    for two in (False, True):
                        rows = n.fields(eth, ["frame.number", "natt.tcp.cut_frame_start", "natt.tcp.cut_missing"],
                                        "natt.tcp.cut", two_pass=two)
                        self.assertEqual(rows, [want], ("ipv6" if ipv6 else "ipv4", two))

    def test_closed_between_frames(self):
        """The re-framed SA ends with FIN after a whole frame: no cut."""
        for extra in ((), ("--split-every", "2"), ("--prefix-with-first",)):
            with self.subTest(extra=extra):
                cap = os.path.join(self.tmp, "ok.pcap")
                reframe(cap, *extra)
                self.assertTrue(n.fields(cap, ["frame.number"], "tcp.flags.fin == 1", stock=True))
                for two in (False, True):
                    self.assertEqual(n.fields(cap, ["frame.number"], "natt.tcp.cut", two_pass=two), [])

    def test_lab_scenarios_not_cut(self):
        truths = tcp_truths()
        if not truths:
            self.skipTest("no IKE-over-TCP lab scenario in test-captures/")
        for truth in truths:
            for side, cap in captures_of(truth):
                with self.subTest(scenario=truth["scenario"], side=side):
                    self.assertEqual(n.fields(cap, ["frame.number"], "natt.tcp.cut or natt.tcp.connections_full",
                                              two_pass=True), [])

    def test_connection_budget(self):
        """Six connections, room for four (natt.max_sas 1): the fifth and
        sixth are left to TCP, each said once, on its first segment."""
        parts = []
        for i in range(1, 7):
            part = os.path.join(self.tmp, "c%d.pcap" % i)
            reframe(part, "--client-port", str(40000 + i))
            parts.append(part)
        cap = os.path.join(self.tmp, "many.pcap")
        subprocess.run(["mergecap", "-a", "-w", cap] + parts, check=True)
        os.chmod(cap, 0o644)
        tiny = ("-o", "natt.max_sas:1")
        firsts = {}
        for num, port in n.fields(cap, ["frame.number", "tcp.srcport"], "tcp.len > 0", stock=True):
            firsts.setdefault(port, num)
        for two in (False, True):
            rows = n.fields(cap, ["frame.number", "tcp.srcport"], "natt.tcp.connections_full", two_pass=two,
                            extra=tiny)
            self.assertEqual(rows, [[firsts["40005"], "40005"], [firsts["40006"], "40006"]])
            framed = {r[0] for r in n.fields(cap, ["tcp.srcport"], "natt.tcp.length and tcp.dstport == 4500",
                                              two_pass=two, extra=tiny)}
            self.assertEqual(framed, {"40001", "40002", "40003", "40004"})
        self.assertEqual(n.fields(cap, ["frame.number"], "natt.tcp.connections_full"), [])


class NonIkeTcpNotTaken(unittest.TestCase):
    def test_tcp_streams_of_the_corpus(self):
        caps = n.shared_captures("other") + n.negative_captures()
        if not caps:
            self.skipTest("no non-IKE captures")
        for cap in caps:
            with self.subTest(capture=os.path.basename(cap)):
                self.assertEqual(n.fields(cap, ["frame.number"], "tcp and natt"), [])


if __name__ == "__main__":
    n.main()
