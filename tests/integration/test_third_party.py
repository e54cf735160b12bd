#!/usr/bin/env python3
"""Regression test over the 27 third-party captures in
$NATT_SHARED_DIR/captures/ikes (issue 16, last item).

tests/third-party/expectations.json says, per capture, what natt must
output. It was derived from the hand-checked ground truth
(tests/third-party/ground-truth.json, established without natt), not from
natt's output; where natt disagrees with the ground truth and natt is wrong,
the disagreement is recorded there as a known deviation. The test:

* runs each capture once: tshark -2 -T json -z natt,sa (two at a time);
* checks per capture: the SA set (initiator + responder cookie), each SA's
  roles, version, float endpoints, ESP SPIs per direction, NAT column; per
  frame: natt.sa grouping (one ground-truth SA = one natt SA), direction,
  retransmission flags, duplicates, fragments (not numbered as messages of
  their own), never-answered requests; every natt warning/error is listed in
  the expectations with the reason it is right;
* a known deviation makes its check pass while natt still says exactly what
  the deviation records; it fails when the deviation changes or disappears,
  so that a fix forces the expectation to be re-examined.

Skips (exit 77) when the capture folder is absent."""
import collections
import concurrent.futures
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nattlib as n  # noqa: E402

CAPTURE_DIR = os.path.join(n.SHARED_DIR, "captures", "ikes")
EXPECTATIONS = os.path.join(n.SOURCE_DIR, "tests", "third-party", "expectations.json")
WORKERS = 2
PI_WARN = 0x00600000
# The tree's natt.nat.verdict says what the table's NAT column says (issue 16
# item 9), word for word; no verdict field while unknown ("-").
def tree_verdict_of(nat):
    return "(absent)" if nat == "-" else nat


# ---------------------------------------------------------------- tshark output

def parse_sa_table(out):
    rows, header = [], None
    for line in out.splitlines():
        if header is None and line.lstrip().startswith("SA ") and "|" in line:
            header = [c.strip() for c in line.split("|")[:-1]]
        elif header and re.match(r"^\s*\d+ \|", line):
            rows.append(dict(zip(header, [c.strip() for c in line.split("|")[:-1]])))
    return rows


def run_natt(name):
    js, stats = n.split_json(n.tshark(["-r", os.path.join(CAPTURE_DIR, name), "-2", "-T", "json", "-z", "natt,sa"]))
    return n.parse_natt_json(js), parse_sa_table(stats)


def f1(fr, field):
    v = fr["fields"].get(field) if fr else None
    return v[0] if v else ""


# ---------------------------------------------------------------- observations

def _ep(text):
    """natt's table writes IPv6 endpoints as [addr]:port; the expectations as addr:port."""
    return re.sub(r"\[([0-9a-fA-F:.]+)\]:", r"\1:", text or "")


def observe(exp, frames, table):
    """{check: {item: what natt says}} for every item the expectations name,
    in the vocabulary of the expectations (so that one comparison, with known
    deviations applied, decides)."""
    obs = collections.OrderedDict()
    ike_rows = [r for r in table if r.get("Initiator cookie", "-") != "-"]
    rows = {"%s/%s" % (r["Initiator cookie"], r["Responder cookie"]): r for r in ike_rows}
    by_num = {r["SA"]: r for r in table}

    # the IKE SA set, by cookies; rows made from ESP alone (cookies "-") apart
    obs["sa_set"] = {"": sorted(rows)}
    esp_only = collections.OrderedDict()
    for r in table:
        if r.get("Initiator cookie", "-") == "-":
            esp_only.update(n.spis(r.get("ESP SPIs I->R")))
            esp_only.update(n.spis(r.get("ESP SPIs R->I")))
    obs["esp_only"] = esp_only

    # per SA, from the table row with the SA's cookies
    sa_obs = collections.OrderedDict()
    for sa in exp["sas"]:
        r = rows.get(sa["key"])
        k = sa["key"]
        if r is None:
            sa_obs[k + " row"] = "absent"
            continue
        exch = r.get("Exchange", "")
        sa_obs[k + " roles"] = "%s -> %s%s" % (_ep(r.get("Initiator")), _ep(r.get("Responder")),
                                               " (roles guessed)" if exch.endswith("(roles guessed)") else "")
        sa_obs[k + " version"] = r.get("Version", "")
        fl = (r.get("Initiator (NAT-T)", "-"), r.get("Responder (NAT-T)", "-"))
        sa_obs[k + " NAT-T endpoints"] = "-" if fl == ("-", "-") else "%s -> %s" % (_ep(fl[0]), _ep(fl[1]))
        sa_obs[k + " float frame"] = r.get("Float frame", "")
        sa_obs[k + " NAT"] = r.get("NAT", "")
        sa_obs[k + " ESP I->R"] = n.spis(r.get("ESP SPIs I->R"))
        sa_obs[k + " ESP R->I"] = n.spis(r.get("ESP SPIs R->I"))
        for d in ("I->R", "R->I"):
            m = re.match(r"(\d+)", r.get("Keepalives " + d, "") or "")
            sa_obs[k + " keepalives " + d] = int(m.group(1)) if m else 0
    obs["sa"] = sa_obs

    # per frame
    fo = collections.OrderedDict()
    sa_of_truth = collections.defaultdict(set)
    msg = lambda x: f1(x, "natt.phase1.message") or f1(x, "natt.qm.message")
    for num, e in exp["frames"].items():
        fr = frames.get(int(num))
        sa = f1(fr, "natt.sa")
        sa_of_truth[e["sa"]].add(sa)
        row = by_num.get(sa)
        fo[num + " sa"] = "%s/%s" % (row["Initiator cookie"], row["Responder cookie"]) if row else \
            ("no natt.sa" if not sa else "SA %s (no row)" % sa)
        fo[num + " dir"] = f1(fr, "natt.direction")
        fo[num + " retransmission"] = bool(fr and fr["fields"].get("natt.retransmission")
                                          and f1(fr, "natt.retransmission") not in ("0", "False", "false"))
        fo[num + " duplicate_of"] = f1(fr, "natt.duplicate_of")
        if e.get("fragment_of"):
            first = frames.get(int(e["fragment_of"]))
            fo[num + " fragment numbered as"] = "same message" if msg(fr) == msg(first) else \
                "message %s (first fragment: %s)" % (msg(fr) or "-", msg(first) or "-")
    for num in exp.get("frames_without_sa", {}):
        fo[num + " sa"] = f1(frames.get(int(num)), "natt.sa") or "no natt.sa"
    # keepalives: on their SA, in their direction, each one its own packet
    for sa in exp["sas"]:
        for num in sa["keepalive_frames"]:
            fr = frames.get(int(num))
            row = by_num.get(f1(fr, "natt.sa"))
            fo[num + " keepalive sa"] = "%s/%s" % (row["Initiator cookie"], row["Responder cookie"]) if row else "no natt.sa"
            fo[num + " keepalive dir"] = f1(fr, "natt.direction")
            fo[num + " duplicate_of"] = f1(fr, "natt.duplicate_of")
    obs["frames"] = fo
    tree = collections.defaultdict(set)
    for num, e in exp["frames"].items():
        fr = frames.get(int(num))
        if fr and f1(fr, "natt.sa"):
            tree[e["sa"]].add(f1(fr, "natt.nat.verdict") or "(absent)")
    obs["tree_verdict"] = {k: " | ".join(sorted(v)) for k, v in tree.items()}
    obs["grouping"] = {k: "one natt SA" if len(v) == 1 else "split over natt SAs %s" % ",".join(sorted(v))
                       for k, v in sa_of_truth.items()}

    # requests never answered: natt.sa.never_answered on the frame, or natt.ike.unanswered
    na = collections.OrderedDict()
    for sa in exp["sas"]:
        for num in sa["unanswered_phase1_requests"] + sa["unanswered_other_requests"]:
            fr = frames.get(num)
            flagged = bool(fr) and (bool(fr["fields"].get("natt.sa.never_answered"))
                                    or any(x[0] == "natt.ike.unanswered" for x in fr["experts"]))
            na[str(num)] = "flagged" if flagged else "not flagged"
    obs["never_answered"] = na

    # warnings: natt expert infos of severity warn or error, by name -> frames
    w = collections.defaultdict(list)
    for num, fr in frames.items():
        for name, _msg, sev in fr["experts"]:
            if sev >= PI_WARN:
                w[name].append(num)
    obs["warnings"] = {k: sorted(set(v)) for k, v in sorted(w.items())}
    return obs


def expected(exp):
    """The same shape as observe(), from the expectations."""
    ex = collections.OrderedDict()
    ex["sa_set"] = {"": sorted(sa["key"] for sa in exp["sas"])}
    ex["esp_only"] = dict(exp.get("esp_without_ike", {}))
    so = collections.OrderedDict()
    for sa in exp["sas"]:
        k = sa["key"]
        so[k + " roles"] = "%s -> %s%s" % (sa["initiator"], sa["responder"], " (roles guessed)" if sa["roles_guessed"] else "")
        so[k + " version"] = {1: "IKEv1", 2: "IKEv2"}[sa["version"]]
        so[k + " NAT-T endpoints"] = sa["natt_endpoints"]
        so[k + " float frame"] = sa["float_frame"]
        so[k + " NAT"] = sa["nat"]
        so[k + " ESP I->R"] = sa["esp"]["I->R"]
        so[k + " ESP R->I"] = sa["esp"]["R->I"]
        so[k + " keepalives I->R"] = sa["keepalives"]["I->R"]
        so[k + " keepalives R->I"] = sa["keepalives"]["R->I"]
    ex["sa"] = so
    fo = collections.OrderedDict()
    for num, e in exp["frames"].items():
        fo[num + " sa"] = e["sa"]
        fo[num + " dir"] = str(e["dir"])
        fo[num + " retransmission"] = e["retransmission"]
        fo[num + " duplicate_of"] = str(e["duplicate_of"]) if e["duplicate_of"] else ""
        if e.get("fragment_of"):
            fo[num + " fragment numbered as"] = "same message"
    for num in exp.get("frames_without_sa", {}):
        fo[num + " sa"] = "no natt.sa"
    for sa in exp["sas"]:
        for num, d in sa["keepalive_frames"].items():
            fo[num + " keepalive sa"] = sa["key"]
            fo[num + " keepalive dir"] = str(d)
            fo[num + " duplicate_of"] = ""
    ex["frames"] = fo
    ex["tree_verdict"] = {sa["key"]: tree_verdict_of(sa["nat"]) for sa in exp["sas"]
                          if any(e["sa"] == sa["key"] for e in exp["frames"].values())}
    ex["grouping"] = {sa["key"]: "one natt SA" for sa in exp["sas"]
                      if any(e["sa"] == sa["key"] for e in exp["frames"].values())}
    na = collections.OrderedDict()
    for sa in exp["sas"]:
        for num in sa["unanswered_phase1_requests"]:
            na[str(num)] = "flagged"
        for num in sa["unanswered_other_requests"]:
            na[str(num)] = "not flagged"
    ex["never_answered"] = na
    ex["warnings"] = {w["name"]: sorted(w["frames"]) for w in exp["warnings"]}
    return ex


def _same(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return a == b
    if isinstance(b, list) and not isinstance(a, list):
        return a in b  # several acceptable values
    return a == b


def compare(name, exp, deviations, obs):
    """[(check, item, expected, natt says, deviation or None, ok)]"""
    ex = expected(exp)
    out = []
    for check in ex:
        items = list(ex[check]) + [k for k in obs.get(check, {}) if k not in ex[check]]
        for item in items:
            want = ex[check].get(item, "(nothing)")
            got = obs.get(check, {}).get(item, "(nothing)")
            dev = deviations.get((check, item))
            if dev is not None:
                out.append((check, item, want, got, dev, _same(got, dev["natt_says"])))
            else:
                out.append((check, item, want, got, None, _same(got, want)))
    return out


# ---------------------------------------------------------------- the test

def load_expectations():
    with open(EXPECTATIONS) as f:
        return json.load(f)


class ThirdPartyCaptures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.exp = load_expectations()
        cls.present = os.path.isdir(CAPTURE_DIR)
        cls.results = {}
        if not cls.present:
            return
        names = sorted(cls.exp["captures"])
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
            futs = {name: ex.submit(run_natt, name) for name in names
                    if os.path.exists(os.path.join(CAPTURE_DIR, name))}
            for name, fut in futs.items():
                try:
                    cls.results[name] = fut.result()
                except Exception as e:  # reported per capture
                    cls.results[name] = e
        cls.elapsed = time.time() - t0

    def setUp(self):
        if not self.present:
            self.skipTest("no third-party captures at %s" % CAPTURE_DIR)

    def test_every_capture_has_expectations(self):
        have = sorted(f for f in os.listdir(CAPTURE_DIR) if f.endswith((".pcap", ".pcapng", ".cap")))
        self.assertEqual(have, sorted(self.exp["captures"]),
                         "captures and expectations differ: examine new captures by hand first")

    def test_every_warning_has_a_reason(self):
        for name, c in self.exp["captures"].items():
            for w in c["warnings"]:
                with self.subTest(capture=name, warning=w["name"]):
                    self.assertTrue(w.get("reason", "").strip(), "warning without a hand-checked reason")
        for d in self.exp["known_deviations"]:
            with self.subTest(deviation=d.get("what")):
                for k in ("capture", "check", "item", "what", "natt_says", "truth", "issue", "reason"):
                    self.assertIn(k, d)

    def test_captures(self):
        devs = collections.defaultdict(dict)
        for d in self.exp["known_deviations"]:
            devs[d["capture"]][(d["check"], d["item"])] = d
        failures, deviations_seen = [], []
        for name in sorted(self.exp["captures"]):
            res = self.results.get(name)
            with self.subTest(capture=name, check="tshark"):
                if res is None:
                    self.skipTest("capture %s absent" % name)
                if isinstance(res, Exception):
                    failures.append("%s: tshark: %s" % (name, res))
                    self.fail(str(res))
            if not isinstance(res, tuple):
                continue
            frames, table = res
            rows = compare(name, self.exp["captures"][name], devs[name], observe(self.exp["captures"][name], frames, table))
            used = set()
            for check, item, want, got, dev, ok in rows:
                if dev is not None:
                    used.add((check, item))
                    deviations_seen.append("%s: %s %s: natt says %r, truth %r (issue %s)" % (name, check, item, got, dev["truth"], dev["issue"]))
                with self.subTest(capture=name, check=check, item=item):
                    if not ok:
                        if dev is not None:
                            msg = "%s: %s %s: known deviation changed: natt now says %r (recorded %r, truth %r): re-examine" % (
                                name, check, item, got, dev["natt_says"], dev["truth"])
                        else:
                            msg = "%s: %s %s: natt says %r, expected %r" % (name, check, item, got, want)
                        failures.append(msg)
                        self.fail(msg)
            for key, dev in devs[name].items():
                if key not in used:
                    with self.subTest(capture=name, deviation=dev["what"]):
                        msg = "%s: deviation %s %s no longer applies: re-examine" % (name, key[0], key[1])
                        failures.append(msg)
                        self.fail(msg)
        sys.stderr.write("\nthird-party: %d captures in %.1f s, %d known deviations:\n  %s\n"
                         % (len(self.results), self.elapsed, len(deviations_seen), "\n  ".join(deviations_seen)))
        if failures:
            sys.stderr.write("third-party: %d FAILURES:\n  %s\n" % (len(failures), "\n  ".join(failures[:200])))


if __name__ == "__main__":
    n.main()
