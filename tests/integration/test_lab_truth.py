#!/usr/bin/env python3
"""Issues 4 and 5: on every lab capture (inside, outside, merged), natt's SA
table and per-frame natt.sa agree with the lab's truth files, which the lab
generated from the daemons' and the NAT's own state."""
import os
import re
import unittest

import nattlib as n


def sa_table(capture, two_pass=True):
    """Parse `-z natt,sa` into a list of dicts keyed by column name."""
    args = ["-r", capture, "-q", "-z", "natt,sa"] + (["-2"] if two_pass else [])
    out = n.tshark(args)
    lines = out.splitlines()
    header = None
    rows = []
    for line in lines:
        if header is None and line.lstrip().startswith("SA ") and "|" in line:
            header = [c.strip() for c in line.split("|")[:-1]]
            continue
        if header and re.match(r"^\s*\d+ \|", line):
            cells = [c.strip() for c in line.split("|")[:-1]]
            rows.append(dict(zip(header, cells)))
    return rows


def sides(truth):
    """(side name, capture path) for every capture of the scenario."""
    for side, name in sorted(truth.get("captures", {}).items()):
        if not name:
            continue
        path = os.path.join(n.CAPTURES_DIR, name)
        if os.path.exists(path):
            yield side, path


def endpoint_on(ep, side):
    """The truth's ip:port of a peer as seen on one capture side."""
    if not ep:
        return None
    if side in ep:
        return ep[side]
    # Merged captures show each peer first as seen on whichever side came first.
    return None


class LabTruth(unittest.TestCase):
    def setUp(self):
        self.truths = [(p, n.load_truth(p)) for p in n.truth_files()]
        if not self.truths:
            self.skipTest("no lab truth files in test-captures/")

    def test_every_sa_once_with_cookies_peers_mapping_spis(self):
        for path, truth in self.truths:
            for side, cap in sides(truth):
                with self.subTest(scenario=truth["scenario"], side=side):
                    rows = sa_table(cap)
                    shown = n.fields(cap, ["isakmp.ispi", "udpencap"], "isakmp", stock=True)
                    on_wire_spis = {r[0].replace("0x", "") for r in n.fields(cap, ["esp.spi"], "esp", stock=True)}
                    in_capture = {r[0] for r in shown}
                    floated = {r[0] for r in shown if r[1]}
                    by_cookie = {}
                    for r in rows:
                        by_cookie.setdefault((r["Initiator cookie"], r["Responder cookie"]), []).append(r)
                    for sa in truth["ike_sas"]:
                        if side not in sa.get("seen_on", [side]) or sa["icookie"] not in in_capture:
                            continue  # e.g. a main mode the NAT dropped before this side
                        key = (sa["icookie"], sa["rcookie"])
                        got = by_cookie.get(key, [])
                        self.assertEqual(len(got), 1, "SA %s/%s appears %d times" % (key[0], key[1], len(got)))
                        r = got[0]
                        self.assertEqual(r["Version"], "IKEv%d" % sa["version"])
                        self.assertEqual(r["Exchange"], {"main": "main", "aggressive": "aggressive",
                                                         "ikev2": "ikev2"}[sa["exchange"]])
                        if side in ("inside", "outside") or side.endswith("inside") or side.endswith("outside"):
                            want_i = endpoint_on(sa["initiator"], side)
                            want_r = endpoint_on(sa["responder"], side)
                            if want_i:
                                self.assertEqual(r["Initiator"], want_i)
                            if want_r:
                                self.assertEqual(r["Responder"], want_r)
                            if sa.get("initiator_float") and sa["icookie"] in floated:
                                want = endpoint_on(sa["initiator_float"], side)
                                if want:
                                    self.assertEqual(r["Initiator (NAT-T)"], want)
                            elif sa["icookie"] not in floated:
                                self.assertEqual(r["Initiator (NAT-T)"], "-")
                        if sa.get("state") == "established":
                            self.assertIn(r["State"], ("established", "deleted"))
                    # Every SPI on the wire is in the row of an IKE SA that the
                    # daemons list it under (a CHILD_SA may move to the new IKE
                    # SA after a phase-1 rekey), in the right direction.
                    owners = {}
                    for r in rows:
                        for spi in n.spis(r["ESP SPIs I->R"]):
                            owners[(spi, "out")] = (r["Initiator cookie"], r["Responder cookie"])
                        for spi in n.spis(r["ESP SPIs R->I"]):
                            owners[(spi, "in")] = (r["Initiator cookie"], r["Responder cookie"])
                    listed = {}
                    for sa in truth["ike_sas"]:
                        for child in sa.get("child_sas", []):
                            # The responder picks the SPI the initiator sends with.
                            listed.setdefault((child["responder_spi"], "out"), set()).add((sa["icookie"], sa["rcookie"]))
                            listed.setdefault((child["initiator_spi"], "in"), set()).add((sa["icookie"], sa["rcookie"]))
                    for key, sas in listed.items():
                        if key[0] not in on_wire_spis:
                            continue  # a rekeyed SA that never carried a packet here
                        self.assertIn(key, owners, "SPI %s (%s) missing from the table" % key)
                        self.assertIn(owners[key], sas, "SPI %s (%s) under the wrong SA" % key)

    def test_every_natt_frame_carries_its_sa(self):
        for path, truth in self.truths:
            for side, cap in sides(truth):
                with self.subTest(scenario=truth["scenario"], side=side):
                    # Datagrams quoted in ICMP errors belong to an SA only if its
                    # mapping is known; they are checked elsewhere.
                    stock = n.fields(cap, ["frame.number"], "(isakmp or udpencap) and not icmp", stock=True)
                    rows = n.fields(cap, ["frame.number", "natt.sa", "isakmp.ispi", "isakmp.rspi"], "natt",
                                    two_pass=True)
                    got = {r[0]: r for r in rows}
                    for (num,) in stock:
                        self.assertIn(num, got, "frame %s has no natt" % num)
                        self.assertNotEqual(got[num][1], "", "frame %s has no natt.sa" % num)
                    # IKE frames of one cookie pair share one SA number.
                    sa_of = {}
                    for num, sa, ispi, rspi in rows:
                        if ispi and rspi and rspi != "0000000000000000":
                            sa_of.setdefault((ispi, rspi), set()).add(sa)
                    for key, sas in sa_of.items():
                        self.assertEqual(len(sas), 1, "cookies %s in SAs %s" % (key, sas))

    def test_nat_verdict(self):
        """natt's verdict per peer agrees with what the peers' own NAT-D checks
        concluded (the daemons' view from the truth file), a certain "behind a
        NAT" with the NAT's conntrack, a certain "forcing" with the daemons
        that force (nattlib.nat_verdict_problems)."""
        for path, truth in self.truths:
            for side, cap in sides(truth):
                with self.subTest(scenario=truth["scenario"], side=side):
                    rows = {(r["Initiator cookie"], r["Responder cookie"]): r for r in sa_table(cap)}
                    for sa in truth["ike_sas"]:
                        r = rows.get((sa["icookie"], sa["rcookie"]))
                        if r is None or not sa.get("daemon_nat_view"):
                            continue
                        problems = n.nat_verdict_problems(sa, r["NAT"], n.nat_rewrite_in(truth, [os.path.basename(cap)]))
                        self.assertFalse(problems, "SA %s: %s" % (sa["icookie"], "; ".join(problems)))

    def test_forced_encapsulation_two_sided(self):
        """Both sides of the NAT in one file (17): the clients the NAT
        translates and whose hashes match neither side are behind the NAT and
        forcing; the server, untranslated with a mismatching hash, is not
        called behind this NAT."""
        for path, truth in self.truths:
            if not any(sa.get("forced_encapsulation") for sa in truth["ike_sas"]):
                continue
            for side, cap in sides(truth):
                if not side.startswith("merged") and ".merged" not in cap:
                    continue
                with self.subTest(scenario=truth["scenario"], side=side):
                    rows = {(r["Initiator cookie"], r["Responder cookie"]): r for r in sa_table(cap)}
                    for sa in truth["ike_sas"]:
                        r = rows.get((sa["icookie"], sa["rcookie"]))
                        if r is None:
                            continue
                        words = n.parse_nat_words(r["NAT"]) or {}
                        if sa["initiator_behind_nat"]:
                            self.assertEqual(words.get("initiator", ("",))[0], "behind a NAT and forcing encapsulation",
                                             r["NAT"])
                        if not sa["responder_behind_nat"]:
                            self.assertEqual(words.get("responder", ("",))[0],
                                             "forcing encapsulation or behind another NAT", r["NAT"])

if __name__ == "__main__":
    n.main()
