"""Capture shapes (issue 15, ../shared/capture-shapes.md): the lab's captures
re-shaped the ways users capture IPsec through a NAT, derived with
Wireshark's own tools (mergecap, editcap, reordercap) into a cache under
NATT_BUILD_DIR, plus the shapes the lab writes itself (a truth file's
top-level "shapes" key), and the tshark output both shape tests read.

Shapes of one scenario:
  original          the lab's own captures (one-sided, and *.merged.pcapng
                    merged with -I none: two interfaces)
  merged-default    `mergecap -w F inside outside`: ONE interface (per NAT
                    for 04-both-behind-nat, from the truth's `nat` entries)
  dup               every packet twice (`mergecap F F`), of every one-sided
                    capture and of merged-default
  mid-tunnel        from the first ESP-in-UDP frame on (`editcap -r`), of
                    every one-sided and merged capture with ESP-in-UDP
  skew+0.4/skew-1.5 inside clock shifted (`editcap -t`), then merged with
                    mergecap's defaults: the inside copy of a datagram after /
                    before its outside twin
  concat            `mergecap -a outside inside`: frames not in time order
  concat-reordercap `reordercap` of concat: time order again (must give the
                    same SAs as concat)
  lab:NAME          a file listed under the truth's "shapes" key
"""
import collections
import concurrent.futures
import fcntl
import hashlib
import json
import os
import subprocess
import threading

import nattlib as n

CACHE_DIR = os.path.join(n.BUILD_DIR, "capture-shapes")
_HERE = os.path.abspath(__file__)
# Derived files are remade when a source capture or this file is newer.
_SELF_MTIME = os.path.getmtime(_HERE)

# tshark's start-up dominates (~0.3 s per run); one more worker than cores
# overlaps the wrapper's own processes.
WORKERS = max(2, min(5, (os.cpu_count() or 2) + 1))

# Severities in _ws.expert.severity (epan/proto.h PI_*).
PI_WARN = 0x00600000
PI_ERROR = 0x00800000


class Shape:
    """One capture file of one scenario in one shape."""

    def __init__(self, truth, shape, path, sides, kind, nat=None, source=None, reference=None, notes="", aux=False):
        self.truth = truth
        self.scenario = truth["scenario"]
        self.shape = shape          # e.g. "dup", "merged-default"
        self.path = path
        self.sides = list(sides)    # truth side names the file covers
        self.kind = kind            # "one-sided" or "two-sided"
        self.nat = nat              # truth nat entry whose both sides are in the file
        self.source = source        # the file this one was derived from (dup, mid-tunnel)
        self.reference = reference  # lab file with the same packets, natt right on it (counts)
        self.notes = notes
        self.aux = aux              # only a comparison point, not a shape of its own

    @property
    def name(self):
        return os.path.basename(self.path)

    @property
    def two_sided(self):
        return self.kind == "two-sided"

    def __repr__(self):
        return "%s/%s(%s)" % (self.scenario, self.shape, self.name)


def _run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def _fresh(out, sources):
    if not os.path.exists(out):
        return False
    m = os.path.getmtime(out)
    return all(os.path.getmtime(s) <= m for s in sources) and _SELF_MTIME <= m


def _make(out, sources, build):
    """Run build(tmp_path) and move the result to out, unless out is newer
    than every source. Atomic, so the two shape tests may run at once."""
    if _fresh(out, sources):
        return out
    tmp = "%s.tmp%d.%d%s" % (out, os.getpid(), threading.get_ident(), os.path.splitext(out)[1])
    try:
        build(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return out


class _NoEsp(Exception):
    pass


def first_esp_in_udp(path):
    for r in stock_frames(path).values():
        if r["esp.spi"] and r["udp.srcport"] and not r["icmp.type"]:
            return int(r["frame.number"])
    return None


def _side_of(truth, capture_name):
    for side, name in truth.get("captures", {}).items():
        if name == capture_name:
            return side
    return None


def _ext(path):
    return ".pcapng" if path.endswith(".pcapng") else ".pcap"


def _lab_merged_for(truth, nat, n_nats):
    """The lab's own -I none merge of a NAT's two sides."""
    caps = truth.get("captures", {})
    if n_nats > 1 and nat and ("merged-" + nat["name"]) in caps:
        return os.path.join(n.CAPTURES_DIR, caps["merged-" + nat["name"]])
    if "merged" in caps:
        return os.path.join(n.CAPTURES_DIR, caps["merged"])
    return None


def _lab_shape_files(truth):
    """(shape name, file name, NAT name or None) from a truth's optional
    "shapes" key: {"nat-any": "f" | ["f", ...] | {"nat1": "f" | {"file": "f", ...}, ...}, ...},
    or a plain list / string of files (shape named after the file). A dict
    with a "file" describes that one file (its "inputs", "command" ... are
    not shapes)."""
    spec = truth.get("shapes")
    out = []
    if not spec:
        return out

    def add(shape, value, nat=None):
        if isinstance(value, str):
            if value.endswith((".pcap", ".pcapng")):
                out.append((shape, value, nat))
        elif isinstance(value, (list, tuple)):
            for v in value:
                add(shape, v, nat)
        elif isinstance(value, dict) and isinstance(value.get("file"), str):
            out.append((shape, value["file"], nat))
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, str) and not v.endswith((".pcap", ".pcapng")) and k.endswith((".pcap", ".pcapng")):
                    out.append((shape, k, v))  # {"file": "nat1"}
                else:
                    add(shape, v, k)

    if isinstance(spec, dict):
        for shape, value in spec.items():
            add(shape, value)
    else:
        for f in (spec if isinstance(spec, (list, tuple)) else [spec]):
            if isinstance(f, str):
                out.append((os.path.basename(f).split(".")[1] if f.count(".") > 1 else "lab", f, None))
            elif isinstance(f, dict):
                name = f.get("file") or f.get("capture") or f.get("path")
                if name:
                    out.append((f.get("shape", "lab"), name, f.get("nat")))
    return out


def scenario_shapes(truth):
    """Every shape of one scenario, deriving files into the cache."""
    caps = truth.get("captures", {})
    scen = truth["scenario"]
    d = os.path.join(CACHE_DIR, scen)
    os.makedirs(d, mode=0o755, exist_ok=True)
    result = []
    one_sided = []
    for side, name in sorted(caps.items()):
        path = os.path.join(n.CAPTURES_DIR, name)
        if not name or not os.path.exists(path):
            continue
        if side.startswith("merged"):
            nat = None
            for x in truth.get("nat", []):
                if side == "merged" or side == "merged-" + x["name"]:
                    nat = x
                    break
            nat_sides = [_side_of(truth, nat["inside_capture"]), _side_of(truth, nat["outside_capture"])] if nat else []
            result.append(Shape(truth, "original", path, nat_sides, "two-sided", nat=nat, reference=path))
        else:
            sh = Shape(truth, "original", path, [side], "one-sided", reference=path)
            result.append(sh)
            one_sided.append(sh)

    # Two sides of each NAT.
    nats = [x for x in truth.get("nat", []) if x.get("inside_capture") and x.get("outside_capture")]
    merged_default = []
    for nat in nats:
        inside = os.path.join(n.CAPTURES_DIR, nat["inside_capture"])
        outside = os.path.join(n.CAPTURES_DIR, nat["outside_capture"])
        if not (os.path.exists(inside) and os.path.exists(outside)):
            continue
        sides = [_side_of(truth, nat["inside_capture"]), _side_of(truth, nat["outside_capture"])]
        tag = ("." + nat["name"]) if len(nats) > 1 else ""
        ref = _lab_merged_for(truth, nat, len(nats))

        def shp(shape, path, source=None):
            return Shape(truth, shape + tag, path, sides, "two-sided", nat=nat, source=source, reference=ref)

        md = _make(os.path.join(d, "merged-default%s.pcapng" % tag), [inside, outside],
                   lambda t: _run(["mergecap", "-w", t, inside, outside]))
        merged_default.append(shp("merged-default", md))
        result.append(merged_default[-1])
        result.append(shp("dup", _make(os.path.join(d, "dup-merged-default%s.pcapng" % tag), [md],
                                        lambda t: _run(["mergecap", "-w", t, md, md])), source=md))
        for label, secs in (("skew+0.4", "0.4"), ("skew-1.5", "-1.5")):
            def build(t, secs=secs):
                shifted = t + ".shifted" + _ext(inside)
                try:
                    _run(["editcap", "-t", secs, inside, shifted])
                    _run(["mergecap", "-w", t, shifted, outside])
                finally:
                    if os.path.exists(shifted):
                        os.remove(shifted)
            result.append(shp(label, _make(os.path.join(d, "%s%s.pcapng" % (label, tag)), [inside, outside], build)))
        concat = _make(os.path.join(d, "concat%s.pcapng" % tag), [inside, outside],
                       lambda t: _run(["mergecap", "-a", "-w", t, outside, inside]))
        result.append(shp("concat", concat))
        # reordercap puts concat back in time order: with mergecap 4.0 this is
        # byte for byte merged-default (same runs, the cache is by content), so it
        # is only the time-ordered comparison point for concat.
        ordered = shp("concat-reordercap", _make(os.path.join(d, "concat-reordercap%s.pcapng" % tag), [concat],
                                                 lambda t: _run(["reordercap", concat, t])), source=concat)
        ordered.aux = True
        ordered.same_as = md
        result.append(ordered)

    # Files the lab writes itself.
    for shape, name, natname in _lab_shape_files(truth):
        path = name if os.path.isabs(name) else os.path.join(n.CAPTURES_DIR, name)
        if not os.path.exists(path):
            continue
        nat = None
        for x in nats:
            if x["name"] == natname or (natname is None and (len(nats) == 1 or ("." + x["name"] + ".") in os.path.basename(path))):
                nat = x
        if nat:
            sides = [_side_of(truth, nat["inside_capture"]), _side_of(truth, nat["outside_capture"])]
            ref = _lab_merged_for(truth, nat, len(nats))
        else:
            sides = [s for s in caps if not s.startswith("merged")]
            ref = None
        kind = "two-sided" if nats else "one-sided"
        result.append(Shape(truth, "lab:" + shape, path, sides, kind, nat=nat, reference=ref))

    # Duplicated one-sided captures.
    for sh in one_sided:
        src = sh.path
        out = os.path.join(d, "dup-%s%s" % (sh.sides[0], _ext(src)))
        fmt = ["-F", "pcap"] if src.endswith(".pcap") else []
        result.append(Shape(truth, "dup", _make(out, [src], lambda t, src=src, fmt=fmt: _run(["mergecap"] + fmt + ["-w", t, src, src])),
                            sh.sides, "one-sided", source=src, reference=src))

    # Mid-tunnel: every one-sided and merged file with ESP-in-UDP.
    for sh in [s for s in result if s.shape == "original" or s.shape.startswith(("merged-default", "lab:"))]:
        if sh.shape == "original":
            label = sh.sides[0] if sh.kind == "one-sided" else "lab-merged"
            base = os.path.splitext(sh.name.replace(scen + ".", ""))[0]
        else:
            label = base = sh.shape.replace(":", "_")
            if sh.nat and sh.nat.get("name") and sh.nat["name"] not in base:
                base += "-" + sh.nat["name"]  # one per NAT (04 has two)
        out = os.path.join(d, "mid-%s%s" % (base, _ext(sh.path)))
        none = out + ".no-esp-in-udp"
        src = sh.path
        if _fresh(none, [src]):
            continue

        def build(t, src=src, none=none):
            first = first_esp_in_udp(src)
            if first is None:
                open(none, "w").close()
                raise _NoEsp()
            _run(["editcap", "-r", src, t, "%d-9999999" % first])
        try:
            _make(out, [src], build)
        except _NoEsp:
            continue
        result.append(Shape(truth, "mid-tunnel" if sh.kind == "one-sided" else "mid-tunnel(%s)" % label, out,
                            sh.sides, sh.kind, nat=sh.nat, source=src, reference=sh.reference))
    return result


def all_shapes(truths=None):
    """[(truth path, truth, [Shape])] for every lab scenario."""
    if truths is None:
        truths = [(p, n.load_truth(p)) for p in n.truth_files()]
    os.makedirs(CACHE_DIR, mode=0o755, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        shapes = list(ex.map(lambda pt: scenario_shapes(pt[1]), truths))
    # tshark runs as uid 65534: the cache must be readable (else the wrapper copies).
    for root, dirs, _ in os.walk(CACHE_DIR):
        os.chmod(root, 0o755)
    return [(p, t, s) for (p, t), s in zip(truths, shapes)]


# ---------------------------------------------------------------- tshark

_PLUGIN_ID = None


def _plugin_id():
    """Identity of the natt build and tshark: a cached natt output is used
    only while neither changed."""
    global _PLUGIN_ID
    if _PLUGIN_ID is None:
        parts = []
        for root, _, files in os.walk(os.path.join(n.BUILD_DIR, "plugins")):
            for f in sorted(files):
                st = os.stat(os.path.join(root, f))
                parts.append("%s:%d:%d" % (f, st.st_size, st.st_mtime_ns))
        for tool in ("/usr/bin/tshark", n.WRAPPER):
            if os.path.exists(tool):
                st = os.stat(tool)
                parts.append("%s:%d:%d" % (tool, st.st_size, st.st_mtime_ns))
        _PLUGIN_ID = ";".join(sorted(parts))
    return _PLUGIN_ID


def _cached(kind, path, args, compute, stock=False):
    """compute() once per (file, its mtime, arguments, natt build): stored
    as JSON under CACHE_DIR/out, so test_capture_shapes and test_one_pass
    (which need the same tshark runs) run each only once; a lock file keeps
    the two from computing one at the same time. NATT_SHAPES_NO_CACHE=1
    turns this off."""
    if os.environ.get("NATT_SHAPES_NO_CACHE"):
        return compute()
    # By content: identical files (reordercap's output and merged-default)
    # share their runs; the path is replaced by a placeholder in the args.
    with open(path, "rb") as fh:
        content = hashlib.sha1(fh.read()).hexdigest()
    ident = json.dumps([kind, content, [a if a != path else "FILE" for a in args],
                        "" if stock else _plugin_id(), _SELF_MTIME])
    h = hashlib.sha1(ident.encode()).hexdigest()
    d = os.path.join(CACHE_DIR, "out")
    os.makedirs(d, exist_ok=True)
    f = os.path.join(d, h + ".json")
    with open(f + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(f):
            with open(f) as fh:
                try:
                    return json.load(fh)
                except ValueError:
                    pass
        value = compute()
        tmp = f + ".tmp%d" % threading.get_ident()
        with open(tmp, "w") as fh:
            json.dump(value, fh)
        os.replace(tmp, f)
        return value


def natt_run(path, two_pass, extra=(), tables=False):
    """natt's view of a capture in one tshark run (-T json, -2 or not):
    ({frame number: {"fields": {natt field: [values]}, "experts": [(expert
    field, message, severity)]}}, statistics text of -z natt,sa and -z
    natt,mappings when tables is true)."""
    args = ["-r", path, "-T", "json"] + (["-2"] if two_pass else []) + list(extra)
    if tables:
        args += ["-z", "natt,sa", "-z", "natt,mappings"]

    def compute():
        js, stats = n.split_json(n.tshark(args))
        frames = n.parse_natt_json(js)
        return [[[k, v] for k, v in frames.items()], stats]
    frames, stats = _cached("natt", path, args, compute)
    return collections.OrderedDict((int(k), {"fields": v["fields"], "experts": [tuple(e) for e in v["experts"]]})
                                   for k, v in frames), stats


STOCK_FIELDS = ["frame.number", "frame.interface_id", "frame.time_epoch", "ip.src", "ip.dst", "ip.id", "ip.len", "ip.frag_offset", "ip.checksum",
                "udp.srcport", "udp.dstport", "isakmp.ispi", "isakmp.rspi", "isakmp.exchangetype", "udpencap",
                "esp.spi", "esp.sequence", "icmp.type", "ip.flags.mf"]


def stock_frames(path):
    """Per frame, stock tshark's view (no natt): the datagram's identity (IP
    addresses, ID, length, fragment offset, checksum, UDP ports: the same
    datagram has the same key on one side of a NAT in every capture of it)
    and its IKE / ESP fields."""
    rows = _cached("stock", path, STOCK_FIELDS, lambda: n.fields(path, STOCK_FIELDS, stock=True), stock=True)
    out = collections.OrderedDict()
    for r in rows:
        r = r + [""] * (len(STOCK_FIELDS) - len(r))
        d = dict(zip(STOCK_FIELDS, r))
        # Take the outermost IP header's values (ICMP errors quote another).
        for k in ("ip.src", "ip.dst", "ip.id", "ip.len", "ip.frag_offset", "ip.checksum", "udp.srcport", "udp.dstport"):
            d[k] = d[k].split(",")[0]
        d["key"] = tuple(d[k] for k in ("ip.src", "ip.dst", "ip.id", "ip.len", "ip.frag_offset", "ip.checksum",
                                        "udp.srcport", "udp.dstport")) if d["ip.src"] else None
        out[int(d["frame.number"])] = d
    return out


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        return list(ex.map(fn, items))
