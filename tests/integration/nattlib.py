"""Shared helpers for natt's integration tests: run tshark with and without
the plugin built in NATT_BUILD_DIR, read captures, compare fields."""
import json
import os
import re
import subprocess
import sys
import unittest

SOURCE_DIR = os.environ.get("NATT_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("NATT_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
SHARED_DIR = os.environ.get("NATT_SHARED_DIR") or os.path.join(SOURCE_DIR, "..", "shared")
CAPTURES_DIR = os.path.join(SOURCE_DIR, "test-captures")
NEGATIVES_DIR = os.path.join(CAPTURES_DIR, "negatives")
WRAPPER = os.path.join(SOURCE_DIR, "tests", "tshark-natt")
EXPECTED_DIR = os.path.join(SOURCE_DIR, "tests", "expected")


def tshark(args, stock=False, check=True):
    """Run tshark (natt loaded, or stock with --stock) and return stdout."""
    cmd = [WRAPPER] + (["--stock"] if stock else []) + [BUILD_DIR] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    # tshark read a capture that ends in the middle of a packet (some of the
    # third-party captures do); it still dissected every whole packet. The exit
    # status for that is 2 up to 4.4 and WS_EXIT_READ_ERROR (14) in 4.6: go by
    # the message, not the number.
    truncated = p.returncode != 0 and "cut short in the middle of a packet" in p.stderr
    if check and p.returncode != 0 and not truncated:
        raise AssertionError("tshark failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
    # tshark prints dissector bugs and assertion failures on stderr and carries on.
    for line in p.stderr.splitlines():
        if "Dissector bug" in line or "CRITICAL" in line or "Epan ERROR" in line:
            raise AssertionError("tshark reported: %s (%s)" % (line, " ".join(cmd)))
    return p.stdout


_VERSION = None


def wireshark_version():
    """(major, minor) of the tshark the tests run."""
    global _VERSION
    if _VERSION is None:
        m = re.search(r"(\d+)\.(\d+)\.\d+", tshark(["-v"], stock=True).splitlines()[0])
        _VERSION = (int(m.group(1)), int(m.group(2)))
    return _VERSION


def fields(capture, fields_list, display_filter=None, stock=False, two_pass=False, extra=()):
    args = ["-r", capture, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    if two_pass:
        args.append("-2")
    if display_filter:
        args += ["-Y", display_filter]
    for f in fields_list:
        args += ["-e", f]
    args += list(extra)
    out = tshark(args, stock=stock)
    return [line.split("\t") for line in out.splitlines()]


def shared_captures(subdir):
    d = os.path.join(SHARED_DIR, "captures", subdir)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith((".pcap", ".pcapng", ".cap")))


def lab_captures():
    if not os.path.isdir(CAPTURES_DIR):
        return []
    return sorted(os.path.join(CAPTURES_DIR, f) for f in os.listdir(CAPTURES_DIR)
                  if f.endswith((".pcap", ".pcapng")))


def negative_captures():
    """The project's own corpus of non-IKE UDP (test-captures/negatives/,
    real clients and servers in namespaces, see its README.md)."""
    if not os.path.isdir(NEGATIVES_DIR):
        return []
    return sorted(os.path.join(NEGATIVES_DIR, f) for f in os.listdir(NEGATIVES_DIR)
                  if f.endswith((".pcap", ".pcapng")))


def truth_files():
    if not os.path.isdir(CAPTURES_DIR):
        return []
    return sorted(os.path.join(CAPTURES_DIR, f) for f in os.listdir(CAPTURES_DIR) if f.endswith(".truth.json"))


def load_truth(path):
    with open(path) as f:
        return json.load(f)


def spis(cell):
    """{"c1a2b3d4": packets} from an ESP SPIs cell of -z natt,sa."""
    out = {}
    for part in (cell or "").split(","):
        m = re.match(r"([0-9a-f]{8})\((\d+)\)", part.strip())
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def _pairs(items):
    """object_pairs_hook: tshark's JSON repeats keys (_ws.expert, fields)."""
    out = {}
    for k, v in items:
        out.setdefault(k, []).append(v)
    return out


def _walk(obj, frame):
    if isinstance(obj, dict):
        for k, vals in obj.items():
            for v in vals:
                if k == "_ws.expert" and isinstance(v, dict):
                    names = [x for x in v if x.startswith("natt.")]
                    if names:
                        msg = v.get("_ws.expert.message", [""])[0]
                        sev = int(v.get("_ws.expert.severity", ["0"])[0])
                        frame["experts"].append((names[0], msg, sev))
                    continue
                if k.startswith("natt.") and not isinstance(v, dict):
                    frame["fields"].setdefault(k, []).append(v)
                _walk(v, frame)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, frame)


def parse_natt_json(out):
    """{frame number: {"fields": {natt field: [values]}, "experts": [(name,
    message, severity)]}} from tshark -T json: natt's own fields and expert
    infos, wherever in the tree."""
    frames = {}
    for pkt in json.loads(out, object_pairs_hook=_pairs) if out.strip() else []:
        layers = pkt["_source"][0]["layers"][0]
        num = int(layers["frame"][0]["frame.number"][0])
        f = {"fields": {}, "experts": []}
        for k, vals in layers.items():
            if k != "frame":
                for v in vals:
                    _walk(v, f)
        frames[num] = f
    return frames


def split_json(out):
    """tshark -T json -z ...: the JSON array, then the statistics text."""
    lines = out.split("\n")
    for i, line in enumerate(lines):
        if line == "]":
            return "\n".join(lines[:i + 1]), "\n".join(lines[i + 1:])
    return out, ""


def main(verbosity=2, summary=None):
    """unittest.main that exits 77 (CTest 'skipped') when every test skipped;
    summary() (a failure table) runs after the tests."""
    prog = unittest.main(exit=False, verbosity=verbosity)
    if summary:
        summary()
    r = prog.result
    if r.testsRun and len(r.skipped) == r.testsRun and not r.failures and not r.errors:
        sys.exit(77)
    sys.exit(0 if r.wasSuccessful() else 1)


# ---------------------------------------------------------------- NAT verdict words
# The words of natt's NAT verdict (README "NAT verdicts"): per peer a phrase
# and its evidence, "initiator <phrase> (<evidence>); responder ...".
PEER_PHRASES = {
    "not behind a NAT": {"mismatch": False, "behind": False, "forcing": None},
    "behind a NAT": {"mismatch": True, "behind": True, "forcing": None},
    "behind a NAT or forcing encapsulation": {"mismatch": True, "behind": None, "forcing": None},
    "forcing encapsulation": {"mismatch": True, "behind": None, "forcing": True},
    "forcing encapsulation or behind another NAT": {"mismatch": True, "behind": None, "forcing": None},
    "behind a NAT and forcing encapsulation": {"mismatch": True, "behind": True, "forcing": True},
}
EVIDENCE = {"NAT-D", "NAT-D mismatch", "inferred from the float", "inferred from a translated port 500",
            "NAT-D over a zeroed address", "NAT-D mismatch on both sides of the NAT"}


def parse_nat_words(cell):
    """{"initiator": (phrase, evidence), ...} of a NAT cell; {} for "-";
    None for a cell that is not per-peer words (inconsistent, not verified)."""
    if cell == "-":
        return {}
    if cell == "no NAT (NAT-D)":
        return {"initiator": ("not behind a NAT", "NAT-D"), "responder": ("not behind a NAT", "NAT-D")}
    out = {}
    for part in cell.split("; "):
        m = re.match(r"^(initiator|responder) (.*) \(([^()]*)\)$", part)
        if not m or m.group(2) not in PEER_PHRASES or m.group(3) not in EVIDENCE:
            return None
        out[m.group(1)] = (m.group(2), m.group(3))
    return out


def nat_verdict_problems(sa, cell, rewrite=None):
    """What is wrong with natt's NAT cell for a lab truth SA: each peer natt
    judges must agree with what the daemons' NAT-D checks saw (a mismatch
    for it or not: daemon_nat_view), a certain "behind a NAT" with the
    topology (conntrack), a certain "forcing" with the daemons that force
    (forced_encapsulation_by); at least one peer judged. rewrite: in a
    scenario whose middlebox rewrote a NAT-D hash (15), "rewritten" for a
    file that shows only the rewritten hash (natt sees what the daemons saw,
    not the topology), "original" for one that shows the original (natt sees
    the topology, not what the daemons saw)."""
    view = sa.get("daemon_nat_view") or {}
    ini, resp = set(view.get("initiator", [])), set(view.get("responder", []))
    if not ini and not resp:
        return []  # no daemon got as far as NAT-D
    words = parse_nat_words(cell)
    if words is None:
        return ["NAT %r: not per-peer verdict words" % cell]
    if not words:
        return ["NAT %r: nothing decided" % cell]
    topo = {"initiator": sa.get("initiator_behind_nat"), "responder": sa.get("responder_behind_nat")}
    forcing = set(sa.get("forced_encapsulation_by") or [])
    saw = {"initiator": "nat-local" in ini or "nat-remote" in resp,
           "responder": "nat-remote" in ini or "nat-local" in resp}
    if rewrite == "original":
        saw = {peer: bool(topo[peer]) or peer in forcing for peer in saw}
    problems = []
    for peer, (phrase, evidence) in words.items():
        p = PEER_PHRASES[phrase]
        if p["mismatch"] != saw[peer]:
            problems.append("%s %r, but the daemons saw %s NAT-D mismatch for it" % (peer, phrase, "a" if saw[peer] else "no"))
        if p["behind"] is not None and p["behind"] != bool(topo[peer]) and rewrite != "rewritten":
            problems.append("%s %r, but %s NAT translates it (conntrack)" % (peer, phrase, "a" if topo[peer] else "no"))
        if p["forcing"] is True and peer not in forcing:
            problems.append("%s %r, but it does not force encapsulation" % (peer, phrase))
    return problems


def nat_rewrite_in(truth, files):
    """For nat_verdict_problems: None, or whether the files (capture file
    names of the scenario) show only a rewritten NAT-D hash or the original."""
    faults = [f for f in truth.get("faults", []) if f["kind"] == "payload_rewritten"]
    if not faults:
        return None
    return "rewritten" if set(files) <= {f["capture"] for f in faults} else "original"
