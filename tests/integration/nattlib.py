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
