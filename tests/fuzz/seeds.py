#!/usr/bin/env python3
"""Builds the seed corpora of the natt fuzz harnesses from real captures.

    tests/fuzz/seeds.py OUT_DIR CAPTURE...

Reads every UDP datagram of each capture with tshark (stock dissection, no
plugin needed) and writes
  OUT_DIR/fuzz_ike_parse/       each distinct UDP payload (IKE, ESP-in-UDP, keepalives, ...)
  OUT_DIR/fuzz_nat_detection/   each distinct IKE vendor ID and NAT-D payload body
  OUT_DIR/fuzz_analyzer/        each capture as an Analyzer event stream (the format is
  OUT_DIR/fuzz_analyzer_twins/  described at the top of fuzz_analyzer.cpp), 400 events per file
and from every TCP stream that starts with "IKETCP" (RFC 8229): each
direction's bytes for fuzz_ike_parse (its TCP stream walk), and the stream's
framed messages as an event stream with the TCP role (3).
File names are SHA-1s of the contents, as libFuzzer names corpus files.
"""
import hashlib
import os
import struct
import subprocess
import sys

MAX_EVENTS = 400
MAX_PAYLOAD = 2048
FIELDS = ["frame.time_epoch", "ip.src", "ipv6.src", "udp.srcport",
          "ip.dst", "ipv6.dst", "udp.dstport", "udp.payload", "isakmp.vid_bytes", "isakmp.ike.nat_hash"]


def write(d, data):
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def records(capture):
    cmd = ["tshark", "-n", "-r", capture, "-Y", "udp", "-T", "fields", "-E", "occurrence=f"]
    for f in FIELDS:
        cmd += ["-e", f]
    # -E occurrence=f would drop repeated VIDs: ask for all occurrences instead.
    cmd[cmd.index("occurrence=f")] = "occurrence=a"
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        yield dict(zip(FIELDS, cols))


def first(v):
    return v.split(",")[0] if v else ""


def endpoint_bytes(ip4, ip6, port):
    if ip4:
        a = bytes(int(x) for x in first(ip4).split("."))
        return bytes([0]) + a + struct.pack(">H", port)
    if ip6:
        import ipaddress
        a = ipaddress.IPv6Address(first(ip6)).packed[12:]
        return bytes([1]) + a + struct.pack(">H", port)
    return bytes(7)


def pool_indexes(pool, src, dst):
    """Indexes of two endpoints in the pool of 8 (added while there is room)."""
    for e in (src, dst):
        if e not in pool and len(pool) < 8:
            pool.append(e)
    return (pool.index(src) if src in pool else hash(src) % 8), (pool.index(dst) if dst in pool else hash(dst) % 8)


def event(role, si, di, dt_ms, payload):
    """One event of fuzz_analyzer's input: a raw payload with its pair role."""
    op = role << 2
    if dt_ms > 255:
        op |= 0x80
        dt = min(255, dt_ms // 1000)
    else:
        dt = dt_ms
    payload = payload[:MAX_PAYLOAD]
    return bytes([op, si | (di << 3), dt]) + struct.pack("<H", len(payload)) + payload


def tcp_streams(capture):
    """{stream: [(time, src, sport, dst, dport, payload)]} of the TCP
    streams whose first payload starts with IKETCP."""
    cmd = ["tshark", "-n", "-r", capture, "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.stream",
           "-e", "frame.time_epoch", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport",
           "-e", "tcp.payload"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    streams = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) < 7 or not cols[2]:
            continue
        try:
            seg = (float(cols[1]), cols[2], int(cols[3]), cols[4], int(cols[5]), bytes.fromhex(cols[6].replace(":", "")))
        except ValueError:
            continue
        streams.setdefault(cols[0], []).append(seg)
    return {k: v for k, v in streams.items() if v[0][5].startswith(b"IKETCP")}


def tcp_messages(segs):
    """The framed messages of one stream, (time, src, sport, dst, dport,
    body), in the order their first byte was sent."""
    out = []
    ini = segs[0][1:3]
    for direction in (True, False):
        mine = [s for s in segs if (s[1:3] == ini) == direction]
        buf, starts = b"", []
        for s in mine:
            starts.append((len(buf), s))
            buf += s[5]
        off = 6 if direction else 0
        while off + 2 <= len(buf):
            n = int.from_bytes(buf[off:off + 2], "big")
            if n < 2 or off + n > len(buf):
                break
            seg = [s for o, s in starts if o <= off][-1]
            out.append((seg[0], seg[1], seg[2], seg[3], seg[4], buf[off + 2:off + n]))
            off += n
    return sorted(out, key=lambda m: m[0])


def main():
    out = sys.argv[1]
    counts = {}
    for cap in sys.argv[2:]:
        pool, cookies, events = [], [], []
        last_t = None
        for r in records(cap):
            try:
                payload = bytes.fromhex(first(r["udp.payload"]).replace(":", ""))
                sport, dport = int(first(r["udp.srcport"])), int(first(r["udp.dstport"]))
                t = float(first(r["frame.time_epoch"]) or 0)
            except ValueError:
                continue
            write(os.path.join(out, "fuzz_ike_parse"), payload)
            for f in ("isakmp.vid_bytes", "isakmp.ike.nat_hash"):
                for v in r[f].split(","):
                    if v:
                        write(os.path.join(out, "fuzz_nat_detection"), bytes.fromhex(v.replace(":", "")))
            si, di = pool_indexes(pool, endpoint_bytes(r["ip.src"], r["ipv6.src"], sport),
                                  endpoint_bytes(r["ip.dst"], r["ipv6.dst"], dport))
            if 500 in (sport, dport):
                role = 1
            elif 4500 in (sport, dport) or payload[:4] == b"\0\0\0\0" or payload == b"\xff":
                role = 2
            else:
                role = 0
            if len(payload) >= 8 and payload[:4] == b"\0\0\0\0" and len(cookies) < 4:
                c = payload[4:12]
                if c not in cookies:
                    cookies.append(c)
            dt_ms = 0 if last_t is None else max(0, int((t - last_t) * 1000))
            last_t = t
            # Every frame is an event of its own: copies in the capture (both
            # sides of a NAT, duplicates) stay copies; the capture interface
            # says nothing to the model.
            events.append(event(role, si, di, dt_ms, payload))
        for segs in tcp_streams(cap).values():
            ini = segs[0][1:3]
            for direction in (True, False):
                stream = b"".join(sg[5] for sg in segs if (sg[1:3] == ini) == direction)
                if stream:
                    write(os.path.join(out, "fuzz_ike_parse"), stream[:8192])
            for t, sip, sport, dip, dport, body in tcp_messages(segs):
                si, di = pool_indexes(pool, endpoint_bytes(sip, "", sport), endpoint_bytes(dip, "", dport))
                dt_ms = 0 if last_t is None else max(0, int((t - last_t) * 1000))
                last_t = max(t, last_t or t)
                events.append(event(3, si, di, dt_ms, body))  # raw payload, NAT-T role over TCP
        if not events:
            continue
        while len(pool) < 8:
            pool.append(bytes(7))
        while len(cookies) < 4:
            cookies.append(bytes(8))
        head = bytes([0]) + b"".join(pool) + b"".join(cookies)
        for i in range(0, len(events), MAX_EVENTS):
            blob = head + b"".join(events[i:i + MAX_EVENTS])
            for h in ("fuzz_analyzer", "fuzz_analyzer_twins"):
                write(os.path.join(out, h), blob)
    for h in sorted(os.listdir(out)):
        counts[h] = len(os.listdir(os.path.join(out, h)))
    print("seeds: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main()
