#!/usr/bin/env python3
"""Issue 15, item 5: one pass equals two passes. For every lab capture in
every shape (shapes.py) and every capture under NATT_SHARED_DIR/captures,
each frame's natt.sa and natt's expert infos (expert field, message,
severity) are the same in `tshark -r F` and `tshark -2 -r F`.

Each file is a subTest named scenario / shape / file; a table of the
failures is printed at the end."""
import collections
import os
import sys
import time
import unittest

import nattlib as n
import shapes as S

FAILURES = []
T0 = time.time()
FILES = []      # (scenario or source, shape, path, extra tshark args)
RESULTS = {}


def shared_files():
    d = os.path.join(n.SHARED_DIR, "captures")
    out = []
    if not os.path.isdir(d):
        return out
    for root, _, files in os.walk(d):
        for f in sorted(files):
            if f.endswith((".pcap", ".pcapng", ".cap")):
                out.append(os.path.join(root, f))
    return sorted(out)


def _views(item):
    _, _, path, extra = item
    # The lab files: the same runs as test_capture_shapes (cached, see
    # shapes._cached). Third-party captures can be large: natt frames only.
    if extra:
        one = S.natt_run(path, False, extra)[0]
        two = S.natt_run(path, True, extra)[0]
    else:
        one = S.natt_run(path, False)[0]
        two = S.natt_run(path, True, tables=True)[0]
    return one, two


def setUpModule():
    truths = [(p, n.load_truth(p)) for p in n.truth_files()]
    if truths:
        for _, truth, shs in S.all_shapes(truths):
            for sh in shs:
                if sh.aux:
                    continue  # a copy of another shape's file
                FILES.append((sh.scenario, sh.shape, sh.path, ()))
    for path in shared_files():
        FILES.append(("shared/" + os.path.basename(os.path.dirname(path)), "third-party", path, ("-Y", "natt")))
    if not FILES:
        raise unittest.SkipTest("no lab or shared captures")
    for item, views in zip(FILES, S.parallel(_views, FILES)):
        RESULTS[item[2]] = views


def view(frame):
    if frame is None:
        return ("", ())
    return (",".join(frame["fields"].get("natt.sa", [])), tuple(sorted(frame["experts"])))


class OnePass(unittest.TestCase):
    def test_one_pass_equals_two_passes(self):
        if not FILES:
            self.skipTest("no captures")
        for scen, shape, path, _ in FILES:
            name = os.path.basename(path)
            with self.subTest(scenario=scen, shape=shape, file=name):
                one, two = RESULTS[path]
                diffs = []
                kinds = collections.Counter()
                for num in sorted(set(one) | set(two)):
                    a, b = view(one.get(num)), view(two.get(num))
                    if a == b:
                        continue
                    if a[0] != b[0]:
                        kinds["natt.sa"] += 1
                        diffs.append("frame %d natt.sa %r / %r" % (num, a[0], b[0]))
                    if a[1] != b[1]:
                        only1 = sorted(set(a[1]) - set(b[1]))
                        only2 = sorted(set(b[1]) - set(a[1]))
                        for e in only1:
                            kinds["1-pass only " + e[0]] += 1
                        for e in only2:
                            kinds["2-pass only " + e[0]] += 1
                        diffs.append("frame %d experts: 1-pass only %s, 2-pass only %s" % (
                            num, ["%s %r" % (e[0], e[1][:70]) for e in only1], ["%s %r" % (e[0], e[1][:70]) for e in only2]))
                if diffs:
                    msg = "%d frames differ (%s); first: %s" % (
                        len(diffs), ", ".join("%s x%d" % kv for kv in sorted(kinds.items())), diffs[0])
                    FAILURES.append((scen, shape, name, msg))
                    self.fail(msg + "\n  " + "\n  ".join(diffs[:8]))


def summary():
    print("\n==== one pass vs two passes: %d of %d files differ (%.0f s) ====" % (
        len(FAILURES), len(FILES), time.time() - T0), file=sys.stderr)
    if not FAILURES:
        return
    by_shape = collections.Counter((s, sh) for s, sh, _, _ in FAILURES)
    print("%-30s %-30s %s" % ("scenario", "shape", "files"), file=sys.stderr)
    for (s, sh), c in sorted(by_shape.items()):
        print("%-30s %-30s %d" % (s, sh, c), file=sys.stderr)
    print("", file=sys.stderr)
    for s, sh, name, msg in sorted(FAILURES):
        print("%-28s %-26s %-36s %s" % (s, sh, name[:36], msg[:200]), file=sys.stderr)


if __name__ == "__main__":
    n.main(verbosity=1, summary=summary)
