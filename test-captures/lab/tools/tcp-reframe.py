#!/usr/bin/env python3
"""Re-frame one IKE SA of a real capture as IKE and ESP over TCP (RFC 8229).

This kernel has no ESP and no espintcp, so ESP over TCP cannot be captured
for real in the lab. This tool takes the IKE and ESP-in-UDP messages of one
SA from a lab capture (UDP 500 and 4500 between the given peers), and writes
them, in their order and at their times, as one TCP connection from the
initiator to the responder's TCP port: the handshake, the "IKETCP" prefix,
then each message as a frame (2-byte length counting itself; IKE behind the
4-byte non-ESP marker, which IKE on UDP 500 gets added; ESP as is). NAT-T
keepalives are dropped (RFC 8229 sends none over TCP). Deterministic: the
same input gives the same bytes.

A fallback (--unanswered-from IP:PORT): the first IKE request that ip:port
sent to the responder's UDP 500 in the input (another SA of the same
initiator host, e.g. a second client behind the same NAT address) is kept
as UDP, unanswered, before the TCP connection: what a peer that gave up on
UDP and moved to TCP leaves in a capture.

Segmentation exercises reassembly: every --split-every'th frame is cut in
two segments; with --prefix-with-first the prefix shares its segment with
the first frame.

A connection cut mid-message (--cut fin|rst|peer-rst): the last message's
frame is sent only in part (its first half, in two segments), then its
sender closes with FIN (fin) or resets (rst), or the other side resets
(peer-rst).

The NAT-D hashes inside are the UDP ones (the messages are replayed, not
renegotiated): the capture is marked "constructed" in the catalogue.

  tcp-reframe.py IN.pcap OUT.pcap --initiator IP:PORT[,PORT] --responder IP
      [--client-port 40001] [--server-port 4500] [--split-every 3]
      [--prefix-with-first] [--unanswered-from IP:PORT] [--cut fin|rst|peer-rst]
"""
import argparse
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    else:
        e = ">"
    nano = struct.unpack(e + "I", data[:4])[0] == 0xA1B23C4D
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield sec + frac / (1e9 if nano else 1e6), linktype, data[off:off + incl]
        off += incl


def ip_payload(linktype, pkt):
    if linktype == 1:  # Ethernet
        if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
            return None
        return pkt[14:]
    if linktype == 101:
        return pkt
    if linktype == 276:  # Linux cooked v2
        if pkt[0:2] != b"\x08\x00":
            return None
        return pkt[20:]
    raise SystemExit(f"linktype {linktype} not supported")


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


class Conn:
    def __init__(self, cli, cport, srv, sport):
        self.ends = {0: (ip4(cli), cport), 1: (ip4(srv), sport)}
        self.seq = {0: 1000000, 1: 2000000}
        self.ipid = {0: 0x1000, 1: 0x2000}
        self.out = []

    def udp(self, t, src, sp, dst, dp, payload):
        uh = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0)
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, 8 + len(payload))
        uh = uh[:6] + struct.pack("!H", checksum(pseudo + uh + payload) or 0xFFFF)
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0x3000 + len(self.out), 0, 64, 17, 0,
                          ip4(src), ip4(dst))
        iph = iph[:10] + struct.pack("!H", checksum(iph)) + iph[12:]
        self.out.append((t, iph + uh + payload))

    def seg(self, t, d, flags, payload=b""):
        (src, sp), (dst, dp) = self.ends[d], self.ends[1 - d]
        ack = self.seq[1 - d] if flags & 0x10 else 0
        hdr = struct.pack("!HHIIBBHHH", sp, dp, self.seq[d], ack, 5 << 4, flags, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
        csum = checksum(pseudo + hdr + payload)
        hdr = hdr[:16] + struct.pack("!H", csum) + hdr[18:]
        total = 20 + len(hdr) + len(payload)
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, self.ipid[d], 0x4000, 64, 6, 0, src, dst)
        iph = iph[:10] + struct.pack("!H", checksum(iph)) + iph[12:]
        self.ipid[d] += 1
        self.seq[d] += len(payload) + (1 if flags & 0x03 else 0)
        self.out.append((t, iph + hdr + payload))


def write_pcap(path, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
        for t, pkt in records:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack("<IIII", sec, usec, len(pkt), len(pkt)) + pkt)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--initiator", required=True, help="IP:PORT[,PORT] of the SA's initiator on UDP")
    ap.add_argument("--responder", required=True, help="IP of the responder")
    ap.add_argument("--client-port", type=int, default=40001)
    ap.add_argument("--server-port", type=int, default=4500)
    ap.add_argument("--split-every", type=int, default=3)
    ap.add_argument("--prefix-with-first", action="store_true")
    ap.add_argument("--unanswered-from", help="IP:PORT whose first UDP 500 IKE request stays unanswered before TCP")
    ap.add_argument("--cut", choices=("fin", "rst", "peer-rst"),
                    help="send only the first half of the last frame, then end the connection this way")
    a = ap.parse_args()
    ini_ip, ports = a.initiator.split(":")
    ini_ports = {int(p) for p in ports.split(",")}
    msgs = []  # (time, direction, message)
    attempt = None  # (time, src, sport, body): the unanswered UDP request
    for t, lt, pkt in read_pcap(a.inp):
        ip = ip_payload(lt, pkt)
        if not ip or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        src, dst = ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20]))
        sp, dp, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
        body = ip[ihl + 8:ihl + ulen]
        if a.unanswered_from and attempt is None and f"{src}:{sp}" == a.unanswered_from and \
                dst == a.responder and dp == 500:
            attempt = (t, src, sp, body)
            continue
        if src == ini_ip and sp in ini_ports and dst == a.responder and dp in (500, 4500):
            d = 0
        elif dst == ini_ip and dp in ini_ports and src == a.responder and sp in (500, 4500):
            d = 1
        else:
            continue
        if body == b"\xff":
            continue  # NAT-T keepalive: not sent over TCP
        port = sp if d == 1 else dp
        msg = b"\0\0\0\0" + body if port == 500 else body
        msgs.append((t, d, msg))
    if not msgs:
        sys.exit("no messages of that SA in the input")
    c = Conn(ini_ip, a.client_port, a.responder, a.server_port)
    t0 = msgs[0][0]
    if a.unanswered_from:
        if attempt is None:
            sys.exit("no UDP 500 request from " + a.unanswered_from)
        at, asrc, asp, abody = attempt
        # Sent, retransmitted (libreswan: 0, 0.5, 1 s), never answered.
        for k, dt in enumerate((0.0, 0.5, 1.0)):
            c.udp(min(at, t0 - 2.0) + dt, asrc, asp, a.responder, 500, abody)
    c.seg(t0 - 0.003, 0, 0x02)          # SYN
    c.seg(t0 - 0.0025, 1, 0x12)         # SYN, ACK
    c.seg(t0 - 0.002, 0, 0x10)          # ACK
    first = 0
    if a.prefix_with_first:
        t, d, m = msgs[0]
        c.seg(t, 0, 0x18, b"IKETCP" + struct.pack("!H", len(m) + 2) + m)
        first = 1
    else:
        c.seg(t0 - 0.001, 0, 0x18, b"IKETCP")
    for i, (t, d, m) in enumerate(msgs[first:], start=first):
        frame = struct.pack("!H", len(m) + 2) + m
        if a.cut and i == len(msgs) - 1:
            half = len(frame) // 2
            c.seg(t, d, 0x10, frame[:half // 2])
            c.seg(t + 0.0001, d, 0x18, frame[half // 2:half])
            if a.cut == "fin":
                c.seg(t + 0.5, d, 0x11)
                c.seg(t + 0.5005, 1 - d, 0x11)
                c.seg(t + 0.501, d, 0x10)
            else:
                c.seg(t + 0.5, d if a.cut == "rst" else 1 - d, 0x14)
            write_pcap(a.out, c.out)
            print(f"{a.out}: {len(msgs)} messages in {len(c.out)} TCP segments, cut ({a.cut})")
            return
        if a.split_every and i % a.split_every == a.split_every - 1 and len(frame) > 24:
            c.seg(t, d, 0x10, frame[:20])
            c.seg(t + 0.0001, d, 0x18, frame[20:])
        else:
            c.seg(t, d, 0x18, frame)
    tl = msgs[-1][0]
    c.seg(tl + 0.5, 0, 0x11)            # FIN, ACK
    c.seg(tl + 0.5005, 1, 0x11)
    c.seg(tl + 0.501, 0, 0x10)
    write_pcap(a.out, c.out)
    print(f"{a.out}: {len(msgs)} messages in {len(c.out)} TCP segments")


if __name__ == "__main__":
    main()
