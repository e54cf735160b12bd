#!/usr/bin/env python3
"""truth.py WORKDIR OUTDIR: write OUTDIR/<scenario>.truth.json for one lab run.

Every fact comes from machine state recorded during the run, never typed by
hand:
  - meta.jsonl            what the scenario built (captures, NATs, daemons,
                          faults as a tshark filter to locate frames)
  - sw/<name>/sas.log     strongSwan `swanctl --list-sas --pretty` polled
                          every 0.5 s (IKE SPIs = cookies, endpoints, CHILD
                          SPIs, state); sas.final is the last one
  - sw/<name>/charon.log  charon log (packets sent/received per IKE SA,
                          CHILD_SA SPIs, IKE/ESP keys at level 4)
  - ls/<name>/...         libreswan pluto log and `whack --status` dumps
  - nat/<nat>.events      `conntrack -E` on each NAT (every mapping the NAT
                          made, with times); nat/<nat>.final `conntrack -L`
  - the captures, read with stock tshark, only to locate fault frames and to
    cross-check (the "checks" section).
"""
import json
import os
import re
import subprocess
import sys
from collections import OrderedDict, defaultdict

WORK, OUT = sys.argv[1], sys.argv[2]
SW_VERSION = "strongswan-5.9.8"
LS_VERSION = "libreswan-4.10"


def load_meta():
    meta = defaultdict(list)
    with open(os.path.join(WORK, "meta.jsonl")) as f:
        for line in f:
            line = line.strip()
            if line:
                o = json.loads(line)
                meta[o["type"]].append(o)
    return meta


META = load_meta()
SCEN = META["scenario"][0]["scenario"]
CAPTURES = OrderedDict((c["role"], "%s.%s.pcap" % (SCEN, c["role"])) for c in META["capture"])
PATH = META["path"][0]["path"] if META["path"] else list(CAPTURES)[:1]
NATS = META["nat"]


def ep(host, port):
    return "%s:%s" % (host, port) if host is not None else None


# ------------------------------------------------------------------ conntrack
CT_RE = re.compile(r"^\[(?P<ts>[\d.]+)\]\s+\[(?P<ev>\w+)\]\s+(?P<rest>.*)$")


def parse_tuple_fields(rest):
    """-> list of dicts (orig, reply) with src dst sport dport"""
    tuples, cur = [], {}
    for tok in rest.split():
        if "=" not in tok:
            continue
        k, v = tok.split("=", 1)
        if k in ("src", "dst", "sport", "dport"):
            if k in cur:
                tuples.append(cur)
                cur = {}
            cur[k] = v
    if cur:
        tuples.append(cur)
    return tuples[:2]


class CtEntry:
    def __init__(self, orig, reply, ts, proto="udp"):
        self.proto = proto
        self.orig, self.reply = orig, reply
        self.new = ts
        self.destroy = None
        self.assured = False

    def key(self):
        o, r = self.orig, self.reply
        return (o["src"], o["sport"], o["dst"], o["dport"], r["src"], r["sport"], r["dst"], r["dport"])

    def pkt_orig(self):
        o = self.orig
        return (o["src"], int(o["sport"]), o["dst"], int(o["dport"]))

    def pkt_reply(self):
        r = self.reply
        return (r["src"], int(r["sport"]), r["dst"], int(r["dport"]))


def load_conntrack(nat):
    entries = []
    live = {}
    fn = os.path.join(WORK, "nat", nat + ".events")
    if os.path.exists(fn):
        for line in open(fn):
            m = CT_RE.match(line.strip())
            if not m or " udp " not in m.group("rest"):
                continue
            tu = parse_tuple_fields(m.group("rest"))
            if len(tu) != 2:
                continue
            ts = float(m.group("ts"))
            e = CtEntry(tu[0], tu[1], ts)
            k = e.key()
            ev = m.group("ev")
            if ev == "NEW" or (ev == "UPDATE" and k not in live):
                live[k] = e
                entries.append(e)
            if ev in ("UPDATE",) and "ASSURED" in line:
                live[k].assured = True
            if ev == "DESTROY":
                if k in live:
                    live[k].destroy = ts
                    del live[k]
                else:
                    e.new = None
                    e.destroy = ts
                    entries.append(e)
    # LAB_CT_TCP=1: the TCP connections the NAT translated (IKE over TCP)
    fn = os.path.join(WORK, "nat", nat + ".tcp.events")
    if os.path.exists(fn):
        for line in open(fn):
            m = CT_RE.match(line.strip())
            if not m or " tcp " not in m.group("rest") or m.group("ev") != "NEW":
                continue
            tu = parse_tuple_fields(m.group("rest"))
            if len(tu) == 2:
                entries.append(CtEntry(tu[0], tu[1], float(m.group("ts")), "tcp"))
    # entries that existed before the watcher started: from the final dump
    fn = os.path.join(WORK, "nat", nat + ".final")
    stats = ""
    if os.path.exists(fn):
        txt = open(fn).read()
        body, _, stats = txt.partition("# stats")
        for line in body.splitlines():
            if " udp " not in line:
                continue
            tu = parse_tuple_fields(line)
            if len(tu) != 2:
                continue
            e = CtEntry(tu[0], tu[1], None)
            if e.key() not in live and e.key() not in [x.key() for x in entries]:
                entries.append(e)
    return entries, stats.strip()


CT = {}
CT_STATS = {}
NAT_OWN_IPS = {n["name"]: (n["outside_ip"],) for n in NATS}
for n in NATS:
    CT[n["name"]], CT_STATS[n["name"]] = load_conntrack(n["name"])


def translate(nat, pkt, t=None):
    """a packet (src, sport, dst, dport) on one side of NAT -> as seen on the
    other side, using the NAT's own conntrack entries. Prefers the entry
    alive at time t, else the earliest one."""
    cands = []
    for e in CT[nat]:
        if pkt == e.pkt_orig():
            r = e.pkt_reply()
            cands.append((e, (r[2], r[3], r[0], r[1])))
        elif pkt == e.pkt_reply():
            o = e.pkt_orig()
            cands.append((e, (o[2], o[3], o[0], o[1])))
    if not cands:
        return None, None    # the NAT never passed it (dropped or not routed)
    if t is not None:
        alive = [c for c in cands if (c[0].new is None or c[0].new <= t + 1.5)
                 and (c[0].destroy is None or c[0].destroy >= t - 1.5)]
        if alive:
            cands = alive
    cands.sort(key=lambda c: c[0].new if c[0].new is not None else 0)
    e, out = cands[0]
    if out == pkt and pkt[2] in NAT_OWN_IPS.get(nat, ()):
        return None, e       # addressed to the NAT itself and not forwarded
    return out, e


def walk(pkt, start_role, t=None):
    """pkt seen at capture start_role -> {capture_role: pkt} along PATH"""
    seen = {start_role: pkt}
    i = PATH.index(start_role)
    for direction in (1, -1):
        cur, j = pkt, i
        while 0 <= j + 2 * direction < len(PATH) and 0 <= j + direction < len(PATH):
            nat = PATH[j + direction]
            if cur is not None:
                cur, _ = translate(nat, cur, t)
            j += 2 * direction
            seen[PATH[j]] = cur
    return seen


def nat_mappings(nat):
    out = []
    for e in CT[nat]:
        o, r = e.orig, e.reply
        m = OrderedDict(proto=e.proto)
        if (o["src"], o["sport"]) != (r["dst"], r["dport"]):
            m["type"] = "snat"
            m["inside"] = ep(o["src"], o["sport"])
            m["outside"] = ep(r["dst"], r["dport"])
            m["remote"] = ep(o["dst"], o["dport"])
        elif (o["dst"], o["dport"]) != (r["src"], r["sport"]):
            m["type"] = "dnat"
            m["inside"] = ep(r["src"], r["sport"])
            m["outside"] = ep(o["dst"], o["dport"])
            m["remote"] = ep(o["src"], o["sport"])
        else:
            m["type"] = "none"
            m["inside"] = ep(o["src"], o["sport"])
            m["outside"] = ep(o["src"], o["sport"])
            m["remote"] = ep(o["dst"], o["dport"])
        m["created"] = e.new
        m["destroyed"] = e.destroy
        m["assured"] = e.assured
        out.append(m)
    return out


# ------------------------------------------------------------------ strongSwan
def parse_pretty(text):
    """swanctl --pretty output -> list of (sa_name, dict) per 'list-sa event'"""
    events = []
    stack = []
    cur_list = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if cur_list is not None:
            if line == "]":
                cur_list = None
            else:
                stack[-1][1][cur_list].append(line)
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            d = OrderedDict()
            if stack:
                stack[-1][1][name] = d
            stack.append((name, d))
            continue
        if line == "}":
            name, d = stack.pop()
            if not stack and name == "list-sa event":
                for k, v in d.items():
                    events.append((k, v))
            continue
        if " = " in line and stack:
            k, v = line.split(" = ", 1)
            if v == "[":
                stack[-1][1][k] = []
                cur_list = k
            else:
                stack[-1][1][k] = v
    return events


class Sa:
    """one IKE SA as one daemon saw it"""

    def __init__(self, daemon, ispi, rspi):
        self.daemon = daemon
        self.ispi, self.rspi = ispi, rspi
        self.uniqueid = None
        self.version = None
        self.initiator = None
        self.states = []          # (ts, state)
        self.endpoints = []       # (ts, local(host,port), remote(host,port))
        self.children = OrderedDict()   # (spi_in, spi_out) -> dict
        self.nat_flags = set()
        self.exchange = None
        self.first = self.last = None
        self.ids = {}


def load_strongswan(name):
    d = os.path.join(WORK, "sw", name)
    sas = OrderedDict()
    snaps = []
    cur_ts, buf = None, []
    for line in open(os.path.join(d, "sas.log")):
        if line.startswith("@@ "):
            if cur_ts is not None:
                snaps.append((cur_ts, "".join(buf)))
            cur_ts, buf = float(line.split()[1]), []
        else:
            buf.append(line)
    if cur_ts is not None:
        snaps.append((cur_ts, "".join(buf)))
    last_ts = snaps[-1][0] if snaps else 0
    fin = os.path.join(d, "sas.final")
    if os.path.exists(fin):
        snaps.append((last_ts + 0.5, open(fin).read()))
    final_keys = set()
    for i, (ts, text) in enumerate(snaps):
        for conn, v in parse_pretty(text):
            ispi = v.get("initiator-spi", "0" * 16)
            rspi = v.get("responder-spi", "0" * 16)
            uid = v.get("uniqueid")
            key = (uid, ispi) if rspi == "0" * 16 else (uid, ispi, rspi)
            # an SA keeps its uniqueid; the rspi becomes known later
            sa = None
            for s in sas.values():
                if s.uniqueid == uid:
                    sa = s
            if sa is None:
                sa = Sa(name, ispi, rspi)
                sas[key] = sa
                sa.first = ts
            sa.uniqueid = uid
            sa.ispi, sa.rspi = ispi, rspi
            sa.version = int(v.get("version", 0))
            sa.initiator = v.get("initiator") == "yes"
            sa.last = ts
            st = v.get("state")
            if not sa.states or sa.states[-1][1] != st:
                sa.states.append((ts, st))
            loc = (v.get("local-host"), int(v.get("local-port", 0)))
            rem = (v.get("remote-host"), int(v.get("remote-port", 0)))
            if not sa.endpoints or sa.endpoints[-1][1:] != (loc, rem):
                sa.endpoints.append((ts, loc, rem))
            for f in ("nat-local", "nat-remote", "nat-fake", "nat-any"):
                if v.get(f) == "yes":
                    sa.nat_flags.add(f)
            sa.ids = {"local": v.get("local-id"), "remote": v.get("remote-id")}
            for cname, c in (v.get("child-sas") or {}).items():
                if "spi-in" not in c:
                    continue
                ck = (c["spi-in"], c["spi-out"])
                ch = sa.children.setdefault(ck, {"first": ts, "states": []})
                ch["last"] = ts
                ch["encap"] = c.get("encap") == "yes"
                ch["mode"] = c.get("mode")
                ch["local_ts"] = c.get("local-ts")
                ch["remote_ts"] = c.get("remote-ts")
                if not ch["states"] or ch["states"][-1] != c.get("state"):
                    ch["states"].append(c.get("state"))
            if i == len(snaps) - 1:
                final_keys.add(uid)
    for sa in sas.values():
        sa.alive_at_end = sa.uniqueid in final_keys
    log = parse_charon_log(os.path.join(d, "charon.log"))
    for sa in sas.values():
        info = log["sa"].get(sa.uniqueid, {})
        sa.packets = info.get("packets", [])
        sa.exchange = info.get("exchange")
        sa.log_children = info.get("children", [])
        sa.keys = info.get("keys", {})
        sa.log_events = info.get("events", [])
        for spi_i, spi_o in sa.log_children:
            if (spi_i, spi_o) not in sa.children:
                sa.children[(spi_i, spi_o)] = {"first": None, "last": None, "states": ["(log only)"]}
    mode = open(os.path.join(d, "mode")).read().strip()
    return sas, mode, log


TAG_RE = re.compile(r"^(?P<ts>\d+) (?P<thr>\d+)\[(?P<grp>\w+)\] (?:<(?:(?P<conn>[^|>]*)\|)?(?P<uid>\d+)> )?(?P<msg>.*)$")
PKT_RE = re.compile(r"(sending|received) packet: from ([\d.]+)\[(\d+)\] to ([\d.]+)\[(\d+)\]")
CHILD_RE = re.compile(r"CHILD_SA \S+ established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o")
HEX_RE = re.compile(r"^\s*\d+: ((?:[0-9A-F]{2} )+)")


def parse_charon_log(fn):
    res = {"sa": defaultdict(lambda: {"packets": [], "children": [], "keys": {}, "events": []})}
    if not os.path.exists(fn):
        return res
    pending = {}   # uid -> (key name, bytes list, expected length)
    child_keys = defaultdict(dict)
    esp = defaultdict(list)
    spi_next = {}
    for line in open(fn, errors="replace"):
        m = TAG_RE.match(line.rstrip("\n"))
        if not m:
            continue
        uid, msg, ts = m.group("uid"), m.group("msg"), int(m.group("ts"))
        if uid is None:
            continue
        sa = res["sa"][uid]
        hm = HEX_RE.match(msg)
        if hm and uid in pending:
            pname, acc, n = pending[uid]
            acc.extend(hm.group(1).split())
            if len(acc) >= n:
                del pending[uid]
                val = "".join(acc[:n]).lower()
                if pname.startswith("ESP:"):
                    child_keys[uid][pname[4:]] = val
                else:
                    sa["keys"][pname] = val
            continue
        pm = PKT_RE.search(msg)
        if pm:
            sa["packets"].append((ts, pm.group(1), (pm.group(2), int(pm.group(3))), (pm.group(4), int(pm.group(5)))))
            continue
        if "initiating Aggressive Mode" in msg or "initiating an Aggressive Mode" in msg:
            sa["exchange"] = "aggressive"
        elif "initiating Main Mode" in msg or "initiating a Main Mode" in msg:
            sa["exchange"] = "main"
        elif "initiating IKE_SA" in msg or "is initiating an IKE_SA" in msg:
            sa["exchange"] = "ikev2"
        km = re.match(r"(encryption key Ka|Sk_ei secret|Sk_er secret|Sk_ai secret|Sk_ar secret|"
                      r"encryption initiator key|encryption responder key|integrity initiator key|"
                      r"integrity responder key) => (\d+) bytes", msg)
        if km:
            nm = km.group(1)
            if nm.startswith(("encryption initiator", "encryption responder", "integrity")):
                nm = "ESP:" + nm
            pending[uid] = (nm, [], int(km.group(2)))
            continue
        if msg.startswith("adding inbound ESP SA"):
            spi_next[uid] = "in"
        elif msg.startswith("adding outbound ESP SA"):
            spi_next[uid] = "out"
        sm = re.match(r"\s*SPI 0x([0-9a-f]{8}), src ([\d.]+) dst ([\d.]+)", msg)
        if sm and uid in spi_next:
            esp[uid].append(dict(direction=spi_next.pop(uid), spi=sm.group(1), src=sm.group(2),
                                 dst=sm.group(3), keys=dict(child_keys[uid])))
        cm = CHILD_RE.search(msg)
        if cm:
            sa["children"].append((cm.group(1), cm.group(2)))
        for ev in ("establishing CHILD_SA", "rekeying", "sending DPD request", "sending keep alive",
                   "retransmit", "giving up", "deleting IKE_SA", "received DELETE",
                   "changing", "detected", "behind NAT", "received AUTHENTICATION_FAILED",
                   "establishing IKE_SA failed", "peer not responding", "IKE_SA .* established"):
            if re.search(ev, msg):
                sa["events"].append((ts, msg))
                break
    res["esp"] = esp
    return res


# ------------------------------------------------------------------ libreswan
LS_TS_RE = re.compile(r"^(\w{3} +\d+ [\d:]+\.\d+): (.*)$")
LS_SPIS_RE = re.compile(r"ike_spis@\S+ .*#(\d+): ((?:[0-9a-f]{2}\s+){15}[0-9a-f]{2}) added")
LS_SEND_RE = re.compile(r"sending \d+ bytes .* from ([\d.]+):(\d+) to ([\d.]+):(\d+) using (?:UDP|TCP) \(for #(\d+)\)")
LS_TCP_RE = re.compile(r"sending \d+ bytes .* using TCP \(for #(\d+)\)")
LS_V2_INIT_RE = re.compile(r'"[^"]+" #(\d+): initiating IKEv2')
LS_STATE_RE = re.compile(r'^(?:000 )?#(\d+): "[^"]+"\S*(?: [\d.]+)?(?::\d+)?(?:\(\w+\))? (STATE_\w+) \(([^)]*)\)(.*)$')
LS_ESP_RE = re.compile(r'^(?:000 )?#(\d+): "[^"]+"\S*(?: [\d.]+)? esp\.([0-9a-f]+)@([\d.]+) esp\.([0-9a-f]+)@([\d.]+)')


def ls_time(stamp):
    import datetime
    year = datetime.datetime.now().year
    dt = datetime.datetime.strptime("%d %s" % (year, stamp), "%Y %b %d %H:%M:%S.%f")
    return dt.timestamp()


def load_libreswan(name):
    d = os.path.join(WORK, "ls", name)
    cookies, packets = {}, defaultdict(list)
    over_tcp, v2_initiated = set(), set()   # IKEv2 (IKE over TCP scenarios)
    for line in open(os.path.join(d, "pluto.log"), errors="replace"):
        m = LS_TS_RE.match(line.rstrip("\n"))
        if not m:
            continue
        msg = m.group(2)
        tm = LS_TCP_RE.search(msg)
        if tm:
            over_tcp.add(tm.group(1))
        im = LS_V2_INIT_RE.search(msg)
        if im:
            v2_initiated.add(im.group(1))
        sm = LS_SPIS_RE.search(msg)
        if sm:
            b = sm.group(2).split()
            ispi, rspi = "".join(b[:8]), "".join(b[8:])
            st = sm.group(1)
            if st not in cookies or rspi != "0" * 16:
                cookies[st] = (ispi, rspi)
            continue
        pm = LS_SEND_RE.search(msg)
        if pm:
            packets[pm.group(5)].append((ls_time(m.group(1)), "sending", (pm.group(1), int(pm.group(2))),
                                         (pm.group(3), int(pm.group(4)))))
    snaps = []
    cur_ts, buf = None, []
    for line in open(os.path.join(d, "status.log"), errors="replace"):
        if line.startswith("@@ "):
            if cur_ts is not None:
                snaps.append((cur_ts, buf))
            cur_ts, buf = float(line.split()[1]), []
        else:
            buf.append(line.rstrip("\n"))
    if cur_ts is not None:
        snaps.append((cur_ts, buf))
    fin = os.path.join(d, "status.final")
    if os.path.exists(fin):
        snaps.append(((snaps[-1][0] + 0.5) if snaps else 0, open(fin).read().splitlines()))
    sas = OrderedDict()
    parent = {}
    final_alive = set()
    for i, (ts, lines) in enumerate(snaps):
        for line in lines:
            m = LS_STATE_RE.match(line)
            if m:
                st, sname, desc, rest = m.group(1), m.group(2), m.group(3), m.group(4)
                pm = re.search(r"(?:ISAKMP|IKE) SA #(\d+)", rest)
                if pm or sname.startswith("STATE_QUICK") or "_CHILD" in sname:
                    if pm:
                        parent[st] = pm.group(1)
                    continue
                if st not in sas:
                    ispi, rspi = cookies.get(st, ("0" * 16, "0" * 16))
                    sa = Sa(name, ispi, rspi)
                    sa.uniqueid = "ls#" + st
                    sa.version = 1
                    sa.first = ts
                    sa.initiator = "_I" in sname
                    sa.exchange = "aggressive" if "AGGR" in sname else "main"
                    if sname.startswith("STATE_V2"):
                        sa.version = 2
                        sa.exchange = "ikev2"
                        sa.initiator = st in v2_initiated
                    sa.transport = "tcp" if st in over_tcp else "udp"
                    sas[st] = sa
                sa = sas[st]
                sa.ispi, sa.rspi = cookies.get(st, (sa.ispi, sa.rspi))
                state = "ESTABLISHED" if "established" in desc else "CONNECTING"
                if not sa.states or sa.states[-1][1] != state:
                    sa.states.append((ts, state))
                sa.last = ts
                if i == len(snaps) - 1 and state == "ESTABLISHED":
                    final_alive.add(st)
                continue
            m = LS_ESP_RE.match(line)
            if m:
                st = m.group(1)
                par = parent.get(st)
                if par in sas:
                    ch = sas[par].children.setdefault((m.group(4), m.group(2)), {"first": ts, "states": ["INSTALLED"]})
                    ch["last"] = ts
                    ch["encap"] = None
                    ch["mode"] = "TUNNEL" if "tun." in line else "TRANSPORT"
    for st, sa in sas.items():
        sa.alive_at_end = st in final_alive
        pk = list(packets.get(st, []))
        for child, par in parent.items():
            if par == st:
                pk += packets.get(child, [])
        sa.packets = sorted(pk)
        sa.log_children = []
        sa.keys = {}
        sa.log_events = []
    return sas


# ------------------------------------------------------------------ assemble
DAEMONS = OrderedDict((d["name"], d) for d in META["daemon"])
DSAS = {}
DLOG = {}
DMODE = {}
for name, d in DAEMONS.items():
    if d["impl"] == "strongswan":
        DSAS[name], DMODE[name], DLOG[name] = load_strongswan(name)
    else:
        DSAS[name] = load_libreswan(name)
        DMODE[name] = "kernel" if os.environ.get("LAB_KERNEL_ESP") == "1" else "shim"
        DLOG[name] = {"esp": {}}


def impl_name(d):
    return SW_VERSION if DAEMONS[d]["impl"] == "strongswan" else LS_VERSION


def side_capture(daemon):
    return PATH[0] if DAEMONS[daemon]["side"] == "left" else PATH[-1]


def capture_view(daemon, pkt, t):
    """a packet as the daemon sent or received it -> {capture: (src,sport,dst,dport)}"""
    return walk(pkt, side_capture(daemon), t)


def ends(view, who):
    """who: 'src' or 'dst' -> {capture: 'ip:port'}"""
    out = OrderedDict()
    for role in CAPTURES:
        p = view.get(role)
        if p is None:
            out[role] = None
        else:
            out[role] = ep(p[0], p[1]) if who == "src" else ep(p[2], p[3])
    return out


# group daemon SAs into global IKE SAs by cookie pair
GROUPS = OrderedDict()
for name in DAEMONS:
    for sa in DSAS[name].values():
        k = (sa.ispi, sa.rspi)
        if sa.rspi == "0" * 16:
            k = (sa.ispi, name, sa.uniqueid)
        GROUPS.setdefault(k, []).append(sa)

ike_sas = []
keys_v1, keys_v2, esp_rows = [], [], []
for k, members in GROUPS.items():
    ini = next((s for s in members if s.initiator), None)
    res = next((s for s in members if not s.initiator), None)
    any_sa = ini or res
    o = OrderedDict()
    o["version"] = any_sa.version
    exch = None
    for s in members:
        exch = exch or s.exchange
    if any_sa.version == 2:
        exch = "ikev2"
    o["exchange"] = exch or "main"
    o["icookie"] = any_sa.ispi
    o["rspi" if False else "rcookie"] = any_sa.rspi

    # endpoints: the first packet the daemon sent/received for this SA, then
    # the first one on other ports (the float)
    def first_and_float(sa):
        pk = [p for p in getattr(sa, "packets", [])]
        if not pk and sa.endpoints:
            ts, loc, rem = sa.endpoints[0]
            pk = [(ts, "sending", loc, rem)]
        if not pk:
            return None, None
        t0, dirn, a, b = pk[0]
        first = (t0, (a, b) if dirn == "sending" else (b, a))  # (local, remote)
        flo = None
        for t, dirn, a, b in pk[1:]:
            loc, rem = (a, b) if dirn == "sending" else (b, a)
            if (loc[1], rem[1]) != (first[1][0][1], first[1][1][1]):
                flo = (t, (loc, rem))
                break
        return first, flo

    def views(sa, who_local):
        """-> (initiator_view, responder_view) dicts from this daemon's packets"""
        first, flo = first_and_float(sa)
        outs = []
        for item in (first, flo):
            if item is None:
                outs.append((None, None))
                continue
            t, (loc, rem) = item
            pkt = (loc[0], loc[1], rem[0], rem[1])
            v = capture_view(sa.daemon, pkt, t)
            if who_local == "initiator":
                outs.append((ends(v, "src"), ends(v, "dst")))
            else:
                outs.append((ends(v, "dst"), ends(v, "src")))
        return outs

    src_sa, who = (ini, "initiator") if ini is not None else (res, "responder")
    (i0, r0), (i1, r1) = views(src_sa, who)
    o["initiator"] = i0
    o["responder"] = r0
    o["initiator_float"] = i1
    o["responder_float"] = r1

    def behind(view):
        """behind a NAT: its address differs between captures (the NAT
        translated it), or it lives in a NAT's inside network (a failed SA
        the NAT never passed)"""
        if not view:
            return None
        vals = [v for v in view.values() if v]
        if len(set(v.rsplit(":", 1)[0] for v in vals)) > 1:
            return True
        import ipaddress
        for v in vals:
            ip = ipaddress.ip_address(v.rsplit(":", 1)[0])
            for n in NATS:
                if n.get("inside_net") and ip in ipaddress.ip_network(n["inside_net"], strict=False):
                    return True
        return False
    o["initiator_behind_nat"] = behind(i0)
    o["responder_behind_nat"] = behind(r0)
    o["port_translated"] = {"initiator": (len(set(v for v in (i0 or {}).values() if v)) > 1),
                            "responder": (len(set(v for v in (r0 or {}).values() if v)) > 1)}
    forced = []
    for s, role in ((ini, "initiator"), (res, "responder")):
        if s is not None and DMODE.get(s.daemon) == "libipsec-forced":
            forced.append(role)
    o["forced_encapsulation"] = bool(forced)
    o["forced_encapsulation_by"] = forced
    o["daemon_nat_view"] = OrderedDict()
    for s, role in ((ini, "initiator"), (res, "responder")):
        if s is not None:
            o["daemon_nat_view"][role] = sorted(s.nat_flags)
    # child SAs, from the initiator's view when it is ours (spi-in = the
    # SPI the initiator allocated), else flipped from the responder's
    kids = OrderedDict()
    for s in (ini, res):
        if s is None:
            continue
        for (spi_in, spi_out), c in s.children.items():
            pair = (spi_in, spi_out) if s is ini else (spi_out, spi_in)
            if pair in kids:
                for kk, vv in (("encap", c.get("encap")), ("mode", c.get("mode"))):
                    if kids[pair].get(kk) is None and vv is not None:
                        kids[pair][kk] = vv
                continue
            kids[pair] = OrderedDict(initiator_spi=pair[0], responder_spi=pair[1],
                                     encap=c.get("encap"), mode=c.get("mode"),
                                     states=c.get("states"),
                                     installed_in_snapshot=c.get("first") is not None)
    o["child_sas"] = list(kids.values())
    # state
    states = [st for s in members for _, st in s.states]
    alive = any(getattr(s, "alive_at_end", False) and s.states and s.states[-1][1] == "ESTABLISHED" for s in members)
    if alive:
        o["state"] = "established"
    elif "ESTABLISHED" in states:
        o["state"] = "deleted"
    else:
        o["state"] = "failed"
    o["state_history"] = OrderedDict((s.daemon, [st for _, st in s.states]) for s in members)
    o["implementation"] = OrderedDict(
        initiator=impl_name(ini.daemon) if ini else impl_name(next(d for d in DAEMONS if DAEMONS[d]["role"] == "initiator")),
        responder=impl_name(res.daemon) if res else impl_name(next(d for d in DAEMONS if DAEMONS[d]["role"] == "responder")))
    o["daemons"] = OrderedDict((("initiator", ini.daemon if ini else None), ("responder", res.daemon if res else None)))
    if any(getattr(s, "transport", "udp") == "tcp" for s in members):
        o["transport"] = "tcp"   # IKE over TCP (RFC 8229): endpoints are the TCP connection's
    o["ids"] = (ini or res).ids if (ini or res).ids else None
    ike_sas.append(o)

    # decryption tables
    for s in members:
        kk = getattr(s, "keys", {})
        if "encryption key Ka" in kk and s.ispi and all(r[0] != s.ispi for r in keys_v1):
            keys_v1.append((s.ispi, kk["encryption key Ka"]))
        if "Sk_ei secret" in kk and all(r[0] != s.ispi for r in keys_v2):
            keys_v2.append((s.ispi, s.rspi, kk.get("Sk_ei secret"), kk.get("Sk_er secret"),
                            kk.get("Sk_ai secret"), kk.get("Sk_ar secret")))

# ESP SAs from the logs: (spi, keys) as the daemon installed them
for name in DAEMONS:
    for uid, lst in DLOG[name].get("esp", {}).items():
        sa = next((s for s in DSAS[name].values() if s.uniqueid == uid), None)
        is_ini = sa.initiator if sa else None
        for e in lst:
            ks = e["keys"]
            # traffic initiator->responder uses the "initiator" keys
            from_ini = (e["direction"] == "out") == bool(is_ini)
            w = "initiator" if from_ini else "responder"
            enc, integ = ks.get("encryption %s key" % w), ks.get("integrity %s key" % w)
            if enc and all(r[0] != e["spi"] for r in esp_rows):
                esp_rows.append((e["spi"], enc, integ))

# ------------------------------------------------------------------ faults
def tshark_frames(capfile, flt, after=None, limit=40):
    if after:
        flt = "(%s) && frame.time_epoch >= %s" % (flt, after)
    try:
        out = subprocess.run(["tshark", "-r", capfile, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                             capture_output=True, text=True, timeout=120).stdout
    except Exception:
        return []
    fr = [int(x) for x in out.split()]
    return fr[:limit]


faults = []
for f in META["fault"]:
    capfile = os.path.join(OUT, CAPTURES[f["capture"]])
    o = OrderedDict(kind=f["kind"], description=f["description"], capture=CAPTURES[f["capture"]])
    o["frames"] = tshark_frames(capfile, f["filter"], f.get("after") or None)
    o["frames_filter"] = f["filter"] + (" && frame.time_epoch >= %s" % f["after"] if f.get("after") else "")
    o["detail"] = f.get("detail") or None
    if f.get("twin_capture"):
        o["twin_capture"] = CAPTURES[f["twin_capture"]]
        o["twin_frames"] = tshark_frames(os.path.join(OUT, CAPTURES[f["twin_capture"]]), f["twin_filter"],
                                         f.get("after") or None)
    faults.append(o)


# ------------------------------------------------------------------ checks
def tshark_table(capfile):
    fields = ["frame.number", "ip.src", "udp.srcport", "ip.dst", "udp.dstport", "isakmp.ispi",
              "isakmp.rspi", "isakmp.exchangetype", "esp.spi", "udpencap.nat_keepalive",
              "udpencap.non_esp_marker", "ip.flags.mf", "ip.frag_offset"]
    args = ["tshark", "-r", capfile, "-T", "fields", "-E", "occurrence=f"]
    for x in fields:
        args += ["-e", x]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    rows = []
    for line in out.splitlines():
        v = line.split("\t")
        rows.append(dict(zip(fields, v + [""] * (len(fields) - len(v)))))
    return rows


checks = OrderedDict()
for role, fn in CAPTURES.items():
    path = os.path.join(OUT, fn)
    if not os.path.exists(path):
        continue
    rows = tshark_table(path)
    c = OrderedDict()
    c["frames"] = len(rows)
    c["isakmp"] = sum(1 for r in rows if r["isakmp.ispi"])
    c["isakmp_on_4500_with_marker"] = sum(1 for r in rows if r["isakmp.ispi"] and r["udpencap.non_esp_marker"])
    c["esp_in_udp"] = sum(1 for r in rows if r["esp.spi"] and r["udp.srcport"])
    c["esp_plain"] = sum(1 for r in rows if r["esp.spi"] and not r["udp.srcport"])
    c["keepalives"] = sum(1 for r in rows if r["udpencap.nat_keepalive"])
    c["ip_fragments"] = sum(1 for r in rows if r["ip.flags.mf"] in ("1", "True") or (r["ip.frag_offset"] not in ("", "0")))
    spis = set()
    for r in rows:
        if r["esp.spi"]:
            spis.add(int(r["esp.spi"], 16) if r["esp.spi"].startswith("0x") else int(r["esp.spi"]))
    c["esp_spis"] = sorted("%08x" % s for s in spis)
    per_sa = OrderedDict()
    for sa in ike_sas:
        fr = [int(r["frame.number"]) for r in rows if r["isakmp.ispi"].replace(":", "") == sa["icookie"]]
        per_sa[sa["icookie"]] = {"isakmp_frames": len(fr), "first_frame": fr[0] if fr else None,
                                 "rcookie_seen": any(r["isakmp.rspi"].replace(":", "") == sa["rcookie"]
                                                     for r in rows if r["isakmp.ispi"].replace(":", "") == sa["icookie"])}
    c["per_ike_sa"] = per_sa
    checks[role] = c

# SAs that no capture shows (e.g. started while the lab was stopping)
def tcp_frames(sa):
    """IKE over TCP: stock tshark has no RFC 8229 dissector; the frames
    whose TCP payload holds the SA's initiator SPI, per capture."""
    if sa.get("transport") != "tcp":
        return {}
    spi = ":".join(sa["icookie"][i:i + 2] for i in range(0, 16, 2))
    return {role: len(tshark_frames(os.path.join(OUT, name), "tcp contains " + spi, limit=10 ** 6))
            for role, name in CAPTURES.items()}


for sa in ike_sas:
    seen = tcp_frames(sa)
    for role, count in seen.items():
        checks[role]["per_ike_sa"].setdefault(sa["icookie"], OrderedDict())["tcp_frames"] = count
not_on_wire = [sa for sa in ike_sas
               if all(not c["per_ike_sa"].get(sa["icookie"], {}).get("isakmp_frames") and
                      not c["per_ike_sa"].get(sa["icookie"], {}).get("tcp_frames") for c in checks.values())]
ike_sas = [sa for sa in ike_sas if sa not in not_on_wire]
for c in checks.values():
    for sa in not_on_wire:
        c["per_ike_sa"].pop(sa["icookie"], None)

# ------------------------------------------------------------------ shapes
# The same run in the capture shapes users bring (see README "Capture shapes"):
#   merged-default  mergecap's defaults on one NAT's two classic pcap files
#                   (one interface)
#   nat-any         tcpdump -i any on the NAT router (Linux cooked v2)
#   wan-any         tcpdump -i any on the wan bridge (only without a NAT)
# Kept apart from "captures" on purpose: per-side truth (endpoints, checks)
# is keyed by the captures; a shape mixes sides.
def tshark_col(capfile, field):
    out = subprocess.run(["tshark", "-r", capfile, "-T", "fields", "-e", field],
                         capture_output=True, text=True, timeout=120).stdout
    return out.splitlines()


def shape_ifaces(box, nat):
    """ifindex -> what that interface is, from `ip -j -d link` saved at the
    start of the capture; "capture" names the per-side capture that holds
    the same packets."""
    links = json.load(open(os.path.join(WORK, "any", box + ".links.json")))
    wanports = {}
    wp = os.path.join(WORK, "wanports")
    if os.path.exists(wp):
        for line in open(wp):
            a = line.split()
            if len(a) == 2:
                wanports[a[0]] = a[1]
    res = OrderedDict()
    for l in links:
        name, master = l["ifname"], l.get("master")
        kind = (l.get("linkinfo") or {}).get("info_kind") or ("loopback" if name == "lo" else "")
        if name == "lo":
            continue
        o = OrderedDict(name=name, kind=kind)
        if master:
            o["master"] = master
            o["kind"] = "bridge-port"
        if nat is not None:
            if name == box + "-in" or master == box + "-in":
                o["capture"] = nat["inside_capture"]
                if name.startswith("v-"):
                    o["host"] = name[2:]
            elif name == box + "-out":
                o["capture"] = nat["outside_capture"]
        else:
            o["capture"] = list(CAPTURES)[0]
            if name in wanports:
                o["host"] = wanports[name]
        res[str(l["ifindex"])] = o
    return res


shapes = OrderedDict()
multi_nat = len(NATS) > 1
for n in NATS:
    b = SCEN + ("." + n["name"] if multi_nat else "")
    fn = b + ".merged-default.pcapng"
    if os.path.exists(os.path.join(OUT, fn)):
        ifs = sorted(set(tshark_col(os.path.join(OUT, fn), "frame.interface_id")))
        shapes.setdefault("merged-default", OrderedDict())[n["name"]] = OrderedDict(
            file=fn, inputs=[CAPTURES[n["inside_capture"]], CAPTURES[n["outside_capture"]]],
            command="mergecap -w %s %s %s" % (fn, CAPTURES[n["inside_capture"]], CAPTURES[n["outside_capture"]]),
            interfaces=len(ifs), frames=len(tshark_col(os.path.join(OUT, fn), "frame.number")))
for a in META["anycap"]:
    box, shape = a["box"], a["shape"]
    nat = next((n for n in NATS if n["name"] == box), None)
    fn = SCEN + ("." + box if shape == "nat-any" and multi_nat else "") + "." + shape + ".pcap"
    path = os.path.join(OUT, fn)
    if not os.path.exists(path):
        continue
    ifaces = shape_ifaces(box, nat)
    per_if = defaultdict(int)
    for x in tshark_col(path, "sll.ifindex"):
        per_if[x] += 1
    for k, o in ifaces.items():
        o["frames"] = per_if.get(k, 0)
    shapes.setdefault(shape, OrderedDict())[box] = OrderedDict(
        file=fn, box=box, command="ip netns exec <%s> tcpdump -i any -U -w %s 'ip and not igmp'" % (box, fn),
        linktype="LINUX_SLL2", frames=sum(per_if.values()), ifindex=ifaces)
if not NATS:
    META["note"].append({"note": "Capture shapes: no merged-default (one capture point only, the wire) and no "
                                 "nat-any (no NAT router); wan-any is tcpdump -i any in the namespace of the wan bridge "
                                 "that forwards the traffic: every packet three times, identical IP bytes: on its "
                                 "ingress port, its egress port and the bridge device itself (the wire capture "
                                 "puts the bridge in promiscuous mode, so it passes every frame up)."})

# ------------------------------------------------------------------ write
truth = OrderedDict()
truth["scenario"] = SCEN
truth["description"] = META["scenario"][0]["description"]
caps = OrderedDict(CAPTURES)
merged = sorted(x for x in os.listdir(OUT) if x.startswith(SCEN + ".") and x.endswith(".merged.pcapng"))
if len(merged) == 1:
    caps["merged"] = merged[0]
elif merged:
    for m in merged:
        caps["merged-" + m[len(SCEN) + 1:].split(".")[0]] = m
truth["captures"] = caps
truth["shapes"] = shapes
truth["path"] = PATH
nat_out = []
for n in NATS:
    no = OrderedDict(name=n["name"], kind=n["kind"], outside_ip=n["outside_ip"], inside_net=n.get("inside_net"),
                     inside_capture=CAPTURES.get(n["inside_capture"]),
                     outside_capture=CAPTURES.get(n["outside_capture"]))
    if n.get("note"):
        no["note"] = n["note"]
    no["mappings"] = nat_mappings(n["name"])
    st = CT_STATS.get(n["name"], "")
    drops = {}
    for line in st.splitlines():
        for fld in ("insert_failed", "drop", "invalid"):
            mm = re.search(r"\b%s=(\d+)" % fld, line)
            if mm:
                drops[fld] = drops.get(fld, 0) + int(mm.group(1))
    no["conntrack_stats"] = drops
    nat_out.append(no)
truth["nat"] = nat_out
truth["ike_sas"] = ike_sas
if not_on_wire:
    truth["ike_sas_not_on_wire"] = not_on_wire
truth["faults"] = faults
truth["notes"] = [n["note"] for n in META["note"]]
truth["daemons"] = OrderedDict((n, OrderedDict(impl=impl_name(n), side=d["side"], role=d["role"],
                                               data_plane=("kernel-libipsec (userspace ESP-in-UDP, forced encapsulation)"
                                                           if DMODE[n] == "libipsec-forced" else
                                                           "kernel-libipsec with get_features() = KERNEL_ESP_V3_TFC "
                                                           "(userspace ESP-in-UDP, honest NAT-D)"
                                                           if DMODE[n] == "libipsec" else
                                                           "kernel XFRM via xfrm-shim (no ESP on the wire)"
                                                           if DMODE[n] == "shim" else "kernel XFRM with ESP")))
                               for n, d in DAEMONS.items())
truth["checks"] = checks
truth["generated_by"] = "test-captures/lab/tools/truth.py from daemon state (swanctl/whack, logs) and conntrack"

with open(os.path.join(OUT, SCEN + ".truth.json"), "w") as f:
    json.dump(truth, f, indent=2)
    f.write("\n")

# Wireshark decryption table snippets (uat files) for this scenario
kd = os.path.join(WORK, "keys")
os.makedirs(kd, exist_ok=True)
with open(os.path.join(kd, "ikev1_decryption_table"), "w") as f:
    for ic, ka in keys_v1:
        f.write('%s,%s\n' % (ic, ka))
with open(os.path.join(kd, "ikev2_decryption_table"), "w") as f:
    for ispi, rspi, ei, er, ai, ar in keys_v2:
        f.write('%s,%s,%s,%s,"%s",%s,%s,"%s"\n' % (ispi, rspi, ei or "", er or "", "AES-CBC-128 [RFC3602]",
                                                   ai or "", ar or "", "HMAC_SHA1_96 [RFC2404]"))
with open(os.path.join(kd, "esp_sa"), "w") as f:
    for spi, enc, integ in esp_rows:
        f.write('"IPv4","*","*","0x%s","AES-CBC [RFC3602]","0x%s","HMAC-SHA-1-96 [RFC2404]","0x%s"\n' % (spi, enc, integ or ""))
print("truth: %s: %d IKE SAs, %d faults" % (SCEN, len(ike_sas), len(faults)))
