#!/usr/bin/env python3
"""Issue 5: every fault the lab injected gets its natt expert info on the
right frames, and the healthy scenarios get no natt warning or error."""
import os
import unittest

import nattlib as n

# natt's expert infos of severity warning or error.
WARNINGS = [
    "natt.malformed", "natt.ike.invalid_header", "natt.ike.no_marker", "natt.nat.no_float", "natt.nat.rebinding",
    "natt.ike.unanswered", "natt.nat.shared_socket", "natt.method.mismatch", "natt.keepalive.gap",
    "natt.nat.windows_server_behind_nat", "natt.nat.payload_altered", "natt.nat.mapping_timeout",
    "natt.ike.ip_fragmented", "natt.nat.icmp_error", "natt.keepalive.missing", "natt.nat.raw_esp", "natt.sa.table_full",
    "natt.sa.placeholders_full",
]

# fault kind -> (expert infos that must be on the fault's first listed frame,
#                tshark options, whether all listed IKE frames need one of them)
EXPECTED = {
    "mapping_change": (["natt.nat.rebinding"], [], False),
    # The lab's NAT times UDP mappings out after the seconds in the detail.
    "mapping_expired": (["natt.nat.mapping_timeout"], ["-o", "natt.nat_udp_timeout:8"], False),
    "fragments_dropped": (["natt.ike.ip_fragmented", "natt.ike.unanswered"], [], False),
    # The first MM1 is retransmitted, so natt.ike.unanswered flags the
    # retransmissions; that MM1 itself was never answered, which only the end
    # of the capture knows (natt.sa.never_answered, later passes only).
    "port500_pinned": (["natt.ike.unanswered", "natt.nat.shared_socket", "natt.sa.never_answered"], [], True),
    # The new IKE SA over TCP after the unanswered UDP attempt (RFC 8229).
    "tcp_fallback": (["natt.tcp.fallback"], [], False),
}


def frames_with(cap, expert, extra=()):
    return {r[0] for r in n.fields(cap, ["frame.number"], expert, two_pass=True, extra=extra)}


class LabFaults(unittest.TestCase):
    def setUp(self):
        self.truths = [(p, n.load_truth(p)) for p in n.truth_files()]
        if not self.truths:
            self.skipTest("no lab truth files in test-captures/")

    def test_faults_flagged(self):
        checked = 0
        for _, truth in self.truths:
            for fault in truth.get("faults", []):
                kind = fault["kind"]
                cap = os.path.join(n.CAPTURES_DIR, fault["capture"])
                with self.subTest(scenario=truth["scenario"], fault=kind):
                    if kind == "payload_rewritten":
                        # Visible only where both sides of the NAT are in one capture.
                        merged = os.path.join(n.CAPTURES_DIR, truth["captures"]["merged"])
                        got = frames_with(merged, "natt.nat.payload_altered")
                        self.assertTrue(got, "no natt.nat.payload_altered in %s" % merged)
                        checked += 1
                        continue
                    if kind not in EXPECTED:
                        continue  # e.g. keepalive_blocked: invisible on the inside alone
                    experts, extra, all_frames = EXPECTED[kind]
                    flagged = set()
                    for e in experts:
                        flagged |= frames_with(cap, e, extra)
                    frames = [str(f) for f in fault["frames"]]
                    # The first listed frame that carries the UDP datagram (IP
                    # fragments are dissected where they are reassembled).
                    udp = {r[0] for r in n.fields(cap, ["frame.number"], "udp", stock=True)}
                    first = next((f for f in frames if f in udp), frames[0])
                    self.assertIn(first, flagged, "%s: frame %s lacks %s (flagged: %s)" %
                                  (kind, first, experts, sorted(flagged, key=int)))
                    if all_frames:
                        missing = set(frames) - flagged
                        self.assertFalse(missing, "%s: frames %s lack %s" % (kind, sorted(missing), experts))
                    checked += 1
        if not checked:
            self.skipTest("no fault scenarios")

    def test_healthy_scenarios_have_no_warnings(self):
        healthy = [t for _, t in self.truths
                   if not t.get("faults") and all(sa.get("state") == "established" for sa in t["ike_sas"])]
        if not healthy:
            self.skipTest("no healthy scenarios")
        flt = " || ".join(WARNINGS)
        for truth in healthy:
            for side, name in sorted(truth["captures"].items()):
                cap = os.path.join(n.CAPTURES_DIR, name)
                if not os.path.exists(cap):
                    continue
                with self.subTest(scenario=truth["scenario"], side=side):
                    rows = n.fields(cap, ["frame.number", "_ws.expert.message"], flt, two_pass=True)
                    self.assertEqual(rows, [], "natt warnings on a healthy capture")


if __name__ == "__main__":
    n.main()
