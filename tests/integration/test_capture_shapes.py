#!/usr/bin/env python3
"""Issue 15: natt gives the lab's truth on every capture shape of every lab
scenario, not only on the lab's own files (shapes: see shapes.py and
../shared/capture-shapes.md).

On every shape: every truth IKE SA exactly once in `-z natt,sa` with its
cookies, peers, float mapping and SPIs as far as the file shows them; every
IKE/NAT-T frame carries its SA (ESP too); the NAT verdict; on two-sided
shapes the NAT's mappings (`-z natt,mappings`, natt.map.inside/outside);
zero natt warnings on a healthy scenario, and on a fault scenario the
expected expert infos and no other warning than natt gives on the lab's own
captures. Per shape: duplicates linked to their first copy (natt.duplicate_of)
and never a retransmission, ESP/keepalive counts as without duplicates;
mid-tunnel: no rebinding, the first ESP of a flow in the same SA in one pass
and in two; out of time order: the same SAs as time-ordered.

Each check is a subTest named scenario / shape / file / check; a table of
the failures is printed at the end."""
import collections
import os
import re
import sys
import time
import unittest

import nattlib as n
import shapes as S

# natt's expert infos expected on a fault's first frame (as test_lab_faults).
EXPECTED = {
    "mapping_change": (["natt.nat.rebinding"], [], False),
    "mapping_expired": (["natt.nat.mapping_timeout"], ["-o", "natt.nat_udp_timeout:8"], False),
    "fragments_dropped": (["natt.ike.ip_fragmented", "natt.ike.unanswered"], [], False),
    "port500_pinned": (["natt.ike.unanswered", "natt.nat.shared_socket", "natt.sa.never_answered"], [], True),
}
EXCHANGE_START = {"2", "4", "34"}  # main mode, aggressive mode, IKE_SA_INIT
FAILURES = []   # (scenario, shape, file, check, first line)
DATA = {}       # filled by setUpModule
T0 = time.time()


# ESP with no IKE before it must show this many packets of one flow (rising
# sequence numbers) before natt tracks it (tap/limits.h kEspEvidencePackets):
# the packets before have no natt.sa, in one pass and in two alike.
ESP_EVIDENCE_PACKETS = 3


def evidence_frames(d):
    """Frames of ESP flows before the flow can have become credible: at most
    ESP_EVIDENCE_PACKETS - 1 distinct sequence numbers of a (port pair, SPI)
    with no natt.sa yet (their capture duplicates included)."""
    allowed, seqs, tracked = set(), collections.defaultdict(set), set()
    for num, r in sorted(d["stock"].items()):
        if not r["esp.spi"] or not r["udp.srcport"] or r["icmp.type"]:
            continue
        flow = (r["ip.src"], r["udp.srcport"], r["ip.dst"], r["udp.dstport"], r["esp.spi"])
        if flow in tracked:
            continue
        if f1(d["json2"].get(num), "natt.sa"):
            tracked.add(flow)
            continue
        seqs[flow].add(r.get("esp.sequence", "") or num)
        if len(seqs[flow]) < ESP_EVIDENCE_PACKETS:
            allowed.add(num)
    return allowed


# ---------------------------------------------------------------- parsing

def parse_tables(out):
    """{"sa": [row dicts], "mappings": [row dicts]} from -z natt,sa -z natt,mappings."""
    tables = {"sa": [], "mappings": []}
    cur = header = None
    for line in out.splitlines():
        if line.startswith("IPsec NAT-T SAs (all columns)"):
            cur, header = "sa", None
        elif line.startswith("IPsec NAT-T Mappings"):
            cur, header = "mappings", None
        elif cur and header is None and line.lstrip().startswith("SA ") and "|" in line:
            header = [c.strip() for c in line.split("|")[:-1]]
        elif cur and header and re.match(r"^\s*\d+ \|", line):
            tables[cur].append(dict(zip(header, [c.strip() for c in line.split("|")[:-1]])))
    return tables


def keepalives(cell):
    m = re.match(r"(\d+)", cell or "")
    return int(m.group(1)) if m else 0


def f1(frame, field):
    """First value of a natt field in a natt_frames record, or ''."""
    if frame is None:
        return ""
    v = frame["fields"].get(field)
    return v[0] if v else ""


# ---------------------------------------------------------------- data

def _collect(sh):
    d = {}
    d["json2"], stats = S.natt_run(sh.path, True, tables=True)
    d["tables"] = parse_tables(stats)
    d["stock"] = S.stock_frames(sh.path)
    if sh.shape.startswith("mid-tunnel"):
        d["json1"] = S.natt_run(sh.path, False)[0]
    for fault in sh.truth.get("faults", []):
        exp = EXPECTED.get(fault["kind"])
        if exp and exp[1]:
            d.setdefault("json_opt", {})[tuple(exp[1])] = S.natt_run(sh.path, True, list(exp[1]))[0]
    return d


def setUpModule():
    truths = [(p, n.load_truth(p)) for p in n.truth_files()]
    if not truths:
        raise unittest.SkipTest("no lab truth files in test-captures/")
    for tool in ("mergecap", "editcap", "reordercap"):
        if not any(os.access(os.path.join(p, tool), os.X_OK) for p in os.environ.get("PATH", "").split(os.pathsep)):
            raise unittest.SkipTest("%s not installed" % tool)
    allsh = S.all_shapes(truths)
    flat = [sh for _, _, shs in allsh for sh in shs]
    results = S.parallel(_collect, flat)
    DATA["shapes"] = flat
    DATA["by_path"] = {sh.path: (sh, r) for sh, r in zip(flat, results)}
    DATA["by_scenario"] = collections.defaultdict(list)
    for sh, r in zip(flat, results):
        DATA["by_scenario"][sh.scenario].append((sh, r))


def data(path):
    return DATA["by_path"][path][1]


def healthy(truth):
    return not truth.get("faults") and all(sa.get("state") == "established" for sa in truth["ike_sas"])


def truth_sas_in(sh, d):
    """Truth SAs whose initiator cookie is in this file (stock isakmp.ispi)."""
    ispis = {r["isakmp.ispi"].split(",")[0] for r in d["stock"].values() if r["isakmp.ispi"]}
    for sa in sh.truth["ike_sas"]:
        if sa.get("seen_on") and not set(sa["seen_on"]) & set(sh.sides):
            continue
        if sa["icookie"] in ispis:
            yield sa


def starts_in(sa, d):
    """Whether the file has the SA's first message (MM1, AM1 or the
    IKE_SA_INIT request: responder cookie zero): then the exchange, the
    roles, the NAT-D payloads and the outcome are in the file."""
    return any(r["isakmp.ispi"].split(",")[0] == sa["icookie"] and r["isakmp.exchangetype"].split(",")[0] in EXCHANGE_START
               and r["isakmp.rspi"].split(",")[0].strip("0") == "" for r in d["stock"].values())


def eps(ep, sides):
    return {ep[s] for s in sides if ep and s in ep}


def reference_warnings(scenario):
    """{(datagram key, expert field)} of natt warnings on the lab's own files."""
    ref = set()
    for sh, d in DATA["by_scenario"][scenario]:
        if sh.shape != "original":
            continue
        for num, fr in d["json2"].items():
            key = d["stock"].get(num, {}).get("key")
            for name, msg, sev in fr["experts"]:
                if sev >= S.PI_WARN:
                    ref.add((key, name))
    return ref


class CaptureShapes(unittest.TestCase):
    def check(self, sh, what):
        test = self

        class Ctx:
            def __enter__(self):
                self.sub = test.subTest(scenario=sh.scenario, shape=sh.shape, file=sh.name, check=what)
                self.sub.__enter__()
                return self

            def __exit__(self, et, ev, tb):
                if et is not None and issubclass(et, (AssertionError, Exception)) and not issubclass(et, unittest.SkipTest):
                    first = str(ev).strip().splitlines()[0] if str(ev).strip() else et.__name__
                    FAILURES.append((sh.scenario, sh.shape, sh.name, what,
                                     ("" if issubclass(et, AssertionError) else et.__name__ + ": ") + first))
                return self.sub.__exit__(et, ev, tb)
        return Ctx()

    def shapes(self, pred=lambda sh: True, aux=False):
        if "shapes" not in DATA:
            self.skipTest("no shapes")
        return [sh for sh in DATA["shapes"] if pred(sh) and (aux or not sh.aux)]

    # ------------------------------------------------------------ shapes made right
    def test_shape_files_are_what_they_claim(self):
        """Guards the derivation: a merged-default file has one interface, a
        dup file twice the packets, concat is out of time order."""
        for sh in self.shapes(lambda s: s.shape != "original" and not s.shape.startswith("lab:"), aux=True):
            d = data(sh.path)
            with self.check(sh, "shape-made"):
                ifaces = {r.get("frame.interface_id", "") for r in d["stock"].values()}
                times = [float(r["frame.time_epoch"]) for r in d["stock"].values()]
                if sh.shape.startswith(("merged-default", "skew", "concat")):
                    self.assertLessEqual(len(ifaces), 1, "interfaces %s" % sorted(ifaces))
                if sh.shape.startswith("dup") and sh.source in DATA["by_path"]:
                    self.assertEqual(len(d["stock"]), 2 * len(data(sh.source)["stock"]))
                if sh.shape.startswith("concat") and not sh.shape.startswith("concat-reordercap"):
                    self.assertTrue(any(b < a for a, b in zip(times, times[1:])), "concat is in time order")
                if sh.shape.startswith(("concat-reordercap", "merged-default", "skew")):
                    self.assertFalse(any(b < a for a, b in zip(times, times[1:])), "not in time order")

    # ------------------------------------------------------------ SA table
    def test_every_sa_once_with_peers_float_spis(self):
        for sh in self.shapes():
            d = data(sh.path)
            with self.check(sh, "sa-table"):
                rows = d["tables"]["sa"]
                stock = d["stock"].values()
                floated = {r["isakmp.ispi"].split(",")[0] for r in stock if r["isakmp.ispi"] and r["udpencap"]}
                # SPIs natt tracks (an ESP flow with too few packets in the
                # file to be told from other traffic on 4500 is not).
                not_yet = evidence_frames(d)
                # natt claims ESP-in-UDP only on NAT-T ports or pairs it
                # learnt: ESP on another port with no IKE before is not its.
                on_wire = {r["esp.spi"].split(",")[0].replace("0x", "") for num, r in d["stock"].items()
                           if r["esp.spi"] and num not in not_yet and f1(d["json2"].get(num), "natt.kind")}
                problems = []
                present = []
                for sa in truth_sas_in(sh, d):
                    present.append(sa)
                    got = [r for r in rows if r["Initiator cookie"] == sa["icookie"]]
                    if len(got) != 1:
                        problems.append("SA %s in %d rows (%s)" % (sa["icookie"], len(got),
                                        ", ".join("SA %s rcookie %s" % (r["SA"], r["Responder cookie"]) for r in got)))
                        continue
                    r = got[0]
                    if sa["rcookie"] and r["Responder cookie"] != sa["rcookie"] and any(
                            x["isakmp.rspi"].split(",")[0] == sa["rcookie"] for x in stock):
                        problems.append("SA %s rcookie %s, truth %s" % (sa["icookie"], r["Responder cookie"], sa["rcookie"]))
                    start = starts_in(sa, d)
                    if r["Version"] != "IKEv%d" % sa["version"] or (start and r["Exchange"] != sa["exchange"]):
                        problems.append("SA %s is %s %s" % (sa["icookie"], r["Version"], r["Exchange"]))
                    ini, resp = eps(sa["initiator"], sh.sides), eps(sa["responder"], sh.sides)
                    ifl, rfl = eps(sa.get("initiator_float"), sh.sides), eps(sa.get("responder_float"), sh.sides)
                    if start or sa["version"] == 2:
                        if ini and r["Initiator"] not in ini | ifl:
                            problems.append("SA %s initiator %s, truth %s" % (sa["icookie"], r["Initiator"], sorted(ini)))
                        if resp and r["Responder"] not in resp | rfl:
                            problems.append("SA %s responder %s, truth %s" % (sa["icookie"], r["Responder"], sorted(resp)))
                        if sa.get("initiator_float") and sa["icookie"] in floated:
                            if ifl and r["Initiator (NAT-T)"] not in ifl:
                                problems.append("SA %s initiator float %s, truth %s" % (sa["icookie"], r["Initiator (NAT-T)"], sorted(ifl)))
                        elif sa["icookie"] not in floated and r["Initiator (NAT-T)"] != "-":
                            problems.append("SA %s never floated, float %s" % (sa["icookie"], r["Initiator (NAT-T)"]))
                    else:
                        # Mid-tunnel IKEv1: the roles are not in the file; the
                        # peers are (at any address the NAT gave them).
                        allowed = ini | resp | ifl | rfl
                        for nat in sh.truth.get("nat", []):
                            for m in nat.get("mappings", []):
                                if m["inside"] in allowed or m["outside"] in allowed:
                                    allowed |= {m["inside"], m["outside"]}
                        for col in ("Initiator", "Responder"):
                            if r[col] not in allowed:
                                problems.append("SA %s %s %s not a peer %s" % (sa["icookie"], col, r[col], sorted(allowed)))
                    # Mid-tunnel the establishment is not in the file.
                    if start and sa.get("state") == "established" and r["State"] not in ("established", "deleted"):
                        problems.append("SA %s state %s" % (sa["icookie"], r["State"]))
                # Every SPI on the wire under an IKE SA the daemons list it under.
                owners = collections.defaultdict(set)
                for r in rows:
                    # Mid-session IKEv1 and SAs made from ESP say their roles
                    # are guessed: their SPIs may sit in either column.
                    guessed = "roles guessed" in r["Exchange"]
                    for spi in n.spis(r["ESP SPIs I->R"]):
                        owners[(spi, "out")].add(r["Initiator cookie"])
                        if guessed:
                            owners[(spi, "in")].add(r["Initiator cookie"])
                    for spi in n.spis(r["ESP SPIs R->I"]):
                        owners[(spi, "in")].add(r["Initiator cookie"])
                        if guessed:
                            owners[(spi, "out")].add(r["Initiator cookie"])
                listed = collections.defaultdict(set)
                for sa in present:
                    for c in sa.get("child_sas", []):
                        listed[(c["responder_spi"], "out")].add(sa["icookie"])
                        listed[(c["initiator_spi"], "in")].add(sa["icookie"])
                for key, sas in sorted(listed.items()):
                    if key[0] not in on_wire:
                        continue
                    if not owners.get(key):
                        problems.append("SPI %s (%s) missing from the table" % key)
                    elif not owners[key] <= sas:
                        problems.append("SPI %s (%s) under %s, truth %s" % (key[0], key[1], sorted(owners[key]), sorted(sas)))
                self.assertFalse(problems, "; ".join(problems))

    # ------------------------------------------------------------ per frame
    def test_every_natt_frame_carries_its_sa(self):
        for sh in self.shapes():
            d = data(sh.path)
            with self.check(sh, "frame-sa"):
                problems = []
                js = d["json2"]
                sa_of_cookie = collections.defaultdict(set)
                not_yet_esp = evidence_frames(d)
                for num, r in d["stock"].items():
                    if not (r["isakmp.ispi"] or r["udpencap"]) or r["icmp.type"]:
                        continue
                    sa = f1(js.get(num), "natt.sa")
                    if not sa and num not in not_yet_esp:
                        problems.append("frame %d has no natt.sa" % num)
                    elif r["isakmp.ispi"]:
                        sa_of_cookie[r["isakmp.ispi"].split(",")[0]].add(sa)
                for cookie, sas in sorted(sa_of_cookie.items()):
                    if len(sas) != 1:
                        problems.append("cookie %s in natt SAs %s" % (cookie, sorted(sas, key=int)))
                # ESP of a child SA in the natt SA of its IKE SA (after a
                # phase-1 rekey a CHILD_SA may move to the new IKE SA).
                spi_sas = collections.defaultdict(set)
                for sa in truth_sas_in(sh, d):
                    for c in sa.get("child_sas", []):
                        for spi in (c["initiator_spi"], c["responder_spi"]):
                            spi_sas[spi] |= sa_of_cookie.get(sa["icookie"], set())
                bad = collections.Counter()
                for num, r in d["stock"].items():
                    spi = r["esp.spi"].split(",")[0].replace("0x", "")
                    if spi in spi_sas and spi_sas[spi] and not r["icmp.type"] and num not in not_yet_esp:
                        sa = f1(js.get(num), "natt.sa")
                        if sa not in spi_sas[spi]:
                            bad[(spi, sa, tuple(sorted(spi_sas[spi])))] += 1
                for (spi, sa, want), cnt in sorted(bad.items()):
                    problems.append("%d ESP frames of SPI %s in SA %r, IKE SA is %s" % (cnt, spi, sa, "/".join(want)))
                self.assertFalse(problems, "; ".join(problems[:6]) + (" (+%d more)" % (len(problems) - 6) if len(problems) > 6 else ""))

    # ------------------------------------------------------------ NAT verdict
    def test_nat_verdict(self):
        for sh in self.shapes():
            d = data(sh.path)
            with self.check(sh, "nat-verdict"):
                problems = []
                rows = d["tables"]["sa"]
                for sa in truth_sas_in(sh, d):
                    got = [r for r in rows if r["Initiator cookie"] == sa["icookie"]]
                    if len(got) != 1 or "daemon_nat_view" not in sa or not starts_in(sa, d):
                        continue  # counted by sa-table; NAT-D not in the file
                    if not sa.get("daemon_nat_view"):
                        continue
                    files = [sh.truth["captures"].get(s, s) for s in sh.sides]
                    problems += ["SA %s: %s" % (sa["icookie"], p)
                                 for p in n.nat_verdict_problems(sa, got[0]["NAT"], n.nat_rewrite_in(sh.truth, files))]
                self.assertFalse(problems, "; ".join(problems))

    # ------------------------------------------------------------ NAT mappings
    def test_nat_mappings(self):
        for sh in self.shapes(lambda s: s.two_sided and s.nat):
            d = data(sh.path)
            with self.check(sh, "mappings"):
                endpoints = set()
                for r in d["stock"].values():
                    if r["udp.srcport"] and not r["icmp.type"]:
                        endpoints.add("%s:%s" % (r["ip.src"], r["udp.srcport"]))
                        endpoints.add("%s:%s" % (r["ip.dst"], r["udp.dstport"]))
                truth_pairs = {(m["inside"], m["outside"]) for m in sh.nat.get("mappings", []) if m.get("proto", "udp") == "udp"}
                # natt also shows the NAT's TCP mappings of IKE over TCP (RFC 8229), which stock shows no IKE on.
                nat_pairs = {(m["inside"], m["outside"]) for m in sh.nat.get("mappings", [])}
                # Only mappings of IKE/NAT-T traffic the file shows on both sides.
                # A mapping shows in a file when an IKE or ESP datagram (not a
                # keepalive: all alike) crosses it in the file; an identity
                # mapping (inside == outside) is no translation.
                ike_eps = set()
                not_yet = evidence_frames(d)  # ESP natt does not track yet shows nothing
                for num, r in d["stock"].items():
                    if num in not_yet:
                        continue
                    if (r["isakmp.ispi"] or r["esp.spi"]) and r["udp.srcport"] and not r["icmp.type"]:
                        ike_eps.add("%s:%s" % (r["ip.src"], r["udp.srcport"]))
                        ike_eps.add("%s:%s" % (r["ip.dst"], r["udp.dstport"]))
                want = {p for p in truth_pairs if p[0] in ike_eps and p[1] in ike_eps and p[0] != p[1]}
                table = {(r["Inside"], r["Outside"]) for r in d["tables"]["mappings"]}
                per_frame = collections.Counter()
                for fr in d["json2"].values():
                    for i, o in zip(fr["fields"].get("natt.map.inside", []), fr["fields"].get("natt.map.outside", [])):
                        per_frame[(i, o)] += 1
                problems = []
                if want - table:
                    problems.append("-z natt,mappings lacks %s" % sorted(want - table))
                if table - nat_pairs:
                    problems.append("-z natt,mappings has %s, not the NAT's" % sorted(table - nat_pairs))
                if want - set(per_frame):
                    problems.append("no frame has natt.map %s" % sorted(want - set(per_frame)))
                if set(per_frame) - nat_pairs:
                    problems.append("natt.map %s, not the NAT's" % sorted(set(per_frame) - nat_pairs))
                self.assertFalse(problems, "; ".join(problems))

    # ------------------------------------------------------------ expert infos
    def test_warnings(self):
        refs = {}
        for sh in self.shapes():
            d = data(sh.path)
            truth = sh.truth
            warn = [(num, name, msg) for num, fr in d["json2"].items()
                    for name, msg, sev in fr["experts"] if sev >= S.PI_WARN]
            if healthy(truth):
                with self.check(sh, "no-warnings"):
                    kinds = collections.Counter(name for _, name, _ in warn)
                    self.assertFalse(warn, "%d natt warnings on a healthy scenario: %s; first: frame %s %s" % (
                        len(warn), dict(kinds), warn[0][0] if warn else "", warn[0][2] if warn else ""))
                continue
            if sh.shape == "original":
                continue  # test_lab_faults' business
            if truth["scenario"] not in refs:
                refs[truth["scenario"]] = reference_warnings(truth["scenario"])
            ref = refs[truth["scenario"]]
            with self.check(sh, "no-extra-warnings"):
                # natt.nat.payload_altered is on the later copy of the altered
                # message, whichever side the frame order puts first: checked
                # by fault:payload_rewritten.
                rewritten = any(f["kind"] == "payload_rewritten" for f in truth.get("faults", []))
                extra = [(num, name, msg) for num, name, msg in warn
                         if (d["stock"].get(num, {}).get("key"), name) not in ref and
                         not (rewritten and name == "natt.nat.payload_altered")]
                kinds = collections.Counter(name for _, name, _ in extra)
                self.assertFalse(extra, "%d natt warnings the lab's own captures do not have: %s; first: frame %s %s" % (
                    len(extra), dict(kinds), extra[0][0] if extra else "", extra[0][2] if extra else ""))
            for fault in truth.get("faults", []):
                kind = fault["kind"]
                if kind == "payload_rewritten":
                    fst = data(os.path.join(n.CAPTURES_DIR, fault["capture"]))["stock"]
                    keys = {r["key"] for r in d["stock"].values()}
                    if sh.two_sided and any(fst[f]["key"] in keys for f in fault["frames"] if f in fst):
                        with self.check(sh, "fault:" + kind):
                            got = [num for num, fr in d["json2"].items()
                                   if any(e[0] == "natt.nat.payload_altered" for e in fr["experts"])]
                            self.assertTrue(got, "no natt.nat.payload_altered")
                    continue
                if kind not in EXPECTED:
                    continue
                fcap = os.path.join(n.CAPTURES_DIR, fault["capture"])
                fside = next((s for s, f in truth["captures"].items() if f == fault["capture"]), None)
                if fside not in sh.sides or fcap not in DATA["by_path"]:
                    continue
                experts, extra_opts, all_frames = EXPECTED[kind]
                js = d["json_opt"][tuple(extra_opts)] if extra_opts else d["json2"]
                src_stock = data(fcap)["stock"]
                frames = [f for f in fault["frames"] if f in src_stock]
                udp_frames = [f for f in frames if src_stock[f]["udp.srcport"]]
                checked = (udp_frames[:1] or frames[:1]) + (frames if all_frames else [])
                by_key = collections.defaultdict(list)
                for num, r in d["stock"].items():
                    by_key[r["key"]].append(num)
                missing = []
                present = 0
                for f in dict.fromkeys(checked):
                    nums = by_key.get(src_stock[f]["key"], [])
                    if not nums:
                        continue  # not in this shape (mid-tunnel)
                    present += 1
                    # An expert info, or a field (natt.sa.never_answered: an
                    # end-of-capture conclusion, not the frame's own finding).
                    if not any(e[0] in experts for num in nums for e in js.get(num, {"experts": []})["experts"]) and \
                            not any(f1(js.get(num), x) for num in nums for x in experts):
                        missing.append("%s frame %d = here %s" % (fault["capture"].split(".")[1], f, "/".join(map(str, nums))))
                if not present:
                    continue
                with self.check(sh, "fault:" + kind):
                    self.assertFalse(missing, "lacks %s: %s" % ("|".join(experts), ", ".join(missing)))

    # ------------------------------------------------------------ duplicates
    def test_duplicates(self):
        # The dup shapes, and any other file with the same datagram twice
        # (the lab's `tcpdump -i any` on the NAT router: inside packets twice).
        for sh in self.shapes():
            d = data(sh.path)
            keys = [r["key"] for r in d["stock"].values() if r["key"] is not None]
            if not sh.shape.startswith("dup") and len(set(keys)) == len(keys):
                continue
            js = d["json2"]
            ref = data(sh.reference) if sh.reference in DATA["by_path"] else None
            ref_retrans = set()
            if ref:
                for num, fr in ref["json2"].items():
                    if f1(fr, "natt.retransmission") in ("1", "True", "true"):
                        ref_retrans.add(ref["stock"][num]["key"])
            first = {}
            dup_problems, retrans = [], []
            for num, r in d["stock"].items():
                k = r["key"]
                is_dup = k is not None and k in first
                fr = js.get(num)
                # A duplicate is never a retransmission; a first copy is one
                # where natt says so on the reference file (when there is one).
                if f1(fr, "natt.retransmission") in ("1", "True", "true") and \
                        (is_dup or (ref is not None and k not in ref_retrans)):
                    retrans.append(num)
                # Linked when natt tracks the first copy (not ESP before its
                # flow became credible).
                if is_dup and (r["isakmp.ispi"] or r["udpencap"]) and not r["icmp.type"] and \
                        f1(js.get(first[k]), "natt.sa"):
                    got = f1(fr, "natt.duplicate_of")
                    if got != str(first[k]):
                        dup_problems.append("frame %d: natt.duplicate_of %r, want %d" % (num, got, first[k]))
                elif k is not None:
                    first.setdefault(k, num)
            with self.check(sh, "dup:no-retransmission"):
                self.assertFalse(retrans, "natt.retransmission on %d frames: %s" % (len(retrans), retrans[:8]))
            with self.check(sh, "dup:linked-to-first-copy"):
                self.assertFalse(dup_problems, "%d duplicate IKE frames not linked: %s" % (
                    len(dup_problems), "; ".join(dup_problems[:3])))
            if ref is None or not sh.shape.startswith("dup"):
                continue
            with self.check(sh, "dup:counts"):
                want = {r["Initiator cookie"]: r for r in ref["tables"]["sa"]}
                got = collections.defaultdict(list)
                for r in d["tables"]["sa"]:
                    got[r["Initiator cookie"]].append(r)
                problems = []
                for cookie, w in sorted(want.items()):
                    if cookie == "-":
                        continue  # SAs made from ESP or keepalives: no cookie to match rows by
                    g = got.get(cookie, [])
                    if len(g) != 1:
                        problems.append("SA %s in %d rows" % (cookie, len(g)))
                        continue
                    g = g[0]
                    for col in ("ESP SPIs I->R", "ESP SPIs R->I"):
                        if n.spis(g[col]) != n.spis(w[col]):
                            problems.append("SA %s %s %s, without duplicates %s" % (cookie, col, g[col], w[col]))
                    for col in ("Keepalives I->R", "Keepalives R->I"):
                        if keepalives(g[col]) != keepalives(w[col]):
                            problems.append("SA %s %s %s, without duplicates %s" % (cookie, col, g[col], w[col]))
                self.assertFalse(problems, "; ".join(problems) + " (reference %s)" % os.path.basename(sh.reference))

    # ------------------------------------------------------------ mid-tunnel
    def test_mid_tunnel(self):
        for sh in self.shapes(lambda s: s.shape.startswith("mid-tunnel")):
            d = data(sh.path)
            ref = reference_warnings(sh.scenario)
            with self.check(sh, "mid:no-rebinding"):
                bad = [num for num, fr in d["json2"].items() for e in fr["experts"]
                       if e[0] == "natt.nat.rebinding" and (d["stock"][num]["key"], e[0]) not in ref]
                self.assertFalse(bad, "NAT mapping changed (natt.nat.rebinding) on frames %s" % bad[:8])
            with self.check(sh, "mid:first-esp-same-sa-1-and-2-pass"):
                seen = collections.Counter()
                problems = []
                not_yet = evidence_frames(d)
                for num, r in d["stock"].items():
                    if not r["esp.spi"] or not r["udp.srcport"] or r["icmp.type"]:
                        continue
                    flow = (r["ip.src"], r["udp.srcport"], r["ip.dst"], r["udp.dstport"], r["esp.spi"])
                    seen[flow] += 1
                    if seen[flow] > 3:
                        continue
                    one, two = f1(d["json1"].get(num), "natt.sa"), f1(d["json2"].get(num), "natt.sa")
                    if one != two or (not two and num not in not_yet):
                        problems.append("frame %d: natt.sa %r in one pass, %r in two" % (num, one, two))
                self.assertFalse(problems, "%d first ESP frames differ: %s" % (len(problems), "; ".join(problems[:4])))

    # ------------------------------------------------------------ time order
    def test_out_of_order_same_sas(self):
        """Frames out of time order (concat) give the SAs that reordercap's
        time-ordered copy of the same file gives (which is merged-default,
        byte for byte, with mergecap 4.0)."""
        for sh in self.shapes(lambda s: s.shape.startswith("concat-reordercap"), aux=True):
            concat = data(sh.source)
            ordered = data(sh.path)
            csh = DATA["by_path"][sh.source][0]

            # The SPIs, not their counts: packets are counted on the side of
            # the NAT an SA was first seen on, which the frame order decides.
            def summary(rows):
                return sorted((r["Initiator cookie"], r["Responder cookie"], r["Version"], r["Exchange"], r["NAT"],
                               tuple(sorted(n.spis(r["ESP SPIs I->R"]))),
                               tuple(sorted(n.spis(r["ESP SPIs R->I"])))) for r in rows)
            with self.check(csh, "out-of-order:same-sas-as-reordercap"):
                a, b = summary(concat["tables"]["sa"]), summary(ordered["tables"]["sa"])
                self.assertEqual(a, b, "SAs out of order %s != time-ordered %s" % (a, b))


def summary():
    if not FAILURES:
        print("\ncapture shapes: no failures (%.0f s)" % (time.time() - T0), file=sys.stderr)
        return
    print("\n==== capture-shape failures: %d (%.0f s) ====" % (len(FAILURES), time.time() - T0), file=sys.stderr)
    by_check = collections.Counter((f[3], re.sub(r"\.nat\d+", "", f[1])) for f in FAILURES)
    print("%-38s %-30s %s" % ("check", "shape", "failing files"), file=sys.stderr)
    for (check, shape), cnt in sorted(by_check.items()):
        print("%-38s %-30s %d" % (check, shape, cnt), file=sys.stderr)
    print("\n%-28s %-26s %-34s %-30s %s" % ("scenario", "shape", "file", "check", "first problem"), file=sys.stderr)
    for scen, shape, name, check, msg in sorted(FAILURES):
        print("%-28s %-26s %-34s %-30s %s" % (scen, shape, name[:34], check, msg[:160]), file=sys.stderr)


if __name__ == "__main__":
    n.main(verbosity=1, summary=summary)
