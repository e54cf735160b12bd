#!/usr/bin/env python3
"""Recompute every NAT-D hash of a capture, independently of any IKE dissector.

Usage: python3 tests/third-party/natd_recompute.py CAPTURE

Stock tshark is used only to cut frames into IP addresses, UDP ports and the raw
UDP payload (-T fields -e udp.payload); the IKE header, the payload chain, the
SA proposal (hash algorithm) and the NAT-D / NAT_DETECTION_* payloads are parsed
here, by hand.

  IKEv1 (RFC 3947 s3.2; payload 20, drafts: 130, and 15 in drafts 01-03): NAT-D = HASH(CKY-I | CKY-R | IP | port), HASH = the
    phase-1 negotiated hash (attribute 2 of the transform the responder returns
    in MM2/AM2).  The first NAT-D of a message is the destination (remote) hash,
    the others the source (local) ones.
  IKEv2 (RFC 7296 s2.23): NAT_DETECTION_SOURCE_IP (16388) /
    NAT_DETECTION_DESTINATION_IP (16389) = SHA-1(SPIi | SPIr | IP | port),
    SPIr taken from the header (0 in the IKE_SA_INIT request).

On UDP 4500 a leading non-ESP marker (4 zero bytes) is stripped.  Prints one line
per hash: frame, kind (src|dst), match|mismatch, the ip:port hashed, the
algorithm, computed and observed hashes.  Exits 0 with a message when the
capture is absent.
"""
import hashlib, ipaddress, os, struct, subprocess, sys

HASHES = {1: 'md5', 2: 'sha1', 4: 'sha256', 5: 'sha384', 6: 'sha512'}

FIELDS = ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src',
          'ipv6.dst', 'ip.id', 'udp.srcport', 'udp.dstport', 'udp.payload',
          'frame.len']


def frames(cap, dfilter='udp'):
    cmd = ['tshark', '-n', '-r', cap, '-Y', dfilter, '-T', 'fields',
           '-E', 'separator=\t', '-E', 'occurrence=l']
    for f in FIELDS:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    for line in out.splitlines():
        v = line.split('\t')
        v += [''] * (len(FIELDS) - len(v))
        d = dict(zip(FIELDS, v))
        d['src'] = d['ip.src'] or d['ipv6.src']
        d['dst'] = d['ip.dst'] or d['ipv6.dst']
        if not d['udp.srcport'] or not d['src']:
            continue
        d['sport'] = int(d['udp.srcport'])
        d['dport'] = int(d['udp.dstport'])
        d['payload'] = bytes.fromhex(d['udp.payload'].replace(':', ''))
        d['frame'] = int(d['frame.number'])
        d['time'] = float(d['frame.time_epoch'])
        yield d


def looks_like_ike(p):
    if len(p) < 28:
        return False
    ver = p[17]
    ln = struct.unpack('>I', p[24:28])[0]
    return ver in (0x10, 0x20) and ln == len(p)


def classify(d):
    """Return (kind, ike_bytes) with kind in ike, ike-4500, ike-4500-nomarker,
    keepalive, esp-udp, other."""
    p = d['payload']
    on4500 = 4500 in (d['sport'], d['dport'])
    if on4500:
        if p == b'\xff':
            return 'keepalive', None
        if p[:4] == b'\0\0\0\0' and looks_like_ike(p[4:]):
            return 'ike-4500', p[4:]
        if looks_like_ike(p):
            return 'ike-4500-nomarker', p
        if len(p) >= 8 and p[:4] != b'\0\0\0\0':
            return 'esp-udp', None
        return 'other', None
    if looks_like_ike(p):
        return 'ike', p
    if p[:4] == b'\0\0\0\0' and looks_like_ike(p[4:]):
        return 'ike-marker-off4500', p[4:]
    return 'other', None


def parse_ike(p):
    h = {'ispi': p[0:8], 'rspi': p[8:16], 'np': p[16], 'ver': p[17] >> 4,
         'exch': p[18], 'flags': p[19],
         'msgid': struct.unpack('>I', p[20:24])[0],
         'len': struct.unpack('>I', p[24:28])[0], 'payloads': []}
    if h['ver'] == 1 and h['flags'] & 1:      # IKEv1 encryption bit
        h['payloads'].append((-1, b''))        # rest is encrypted
        return h
    np, off = h['np'], 28
    while np and off + 4 <= len(p):
        nxt = p[off]
        ln = struct.unpack('>H', p[off + 2:off + 4])[0]
        if ln < 4:
            h['payloads'].append((np, None))
            break
        h['payloads'].append((np, p[off + 4:off + ln]))
        if np == 46 or np == 53:               # SK / SKF: rest is encrypted
            break
        np, off = nxt, off + ln
    return h


def v1_hash_alg(sa_body):
    """Hash attribute of the first transform of the first proposal."""
    try:
        off = 8                                # DOI, situation
        plen = struct.unpack('>H', sa_body[off + 2:off + 4])[0]
        prop = sa_body[off:off + plen]
        spisz, = prop[6:7]
        toff = 8 + spisz
        tlen = struct.unpack('>H', prop[toff + 2:toff + 4])[0]
        tr = prop[toff:toff + tlen]
        a = 8
        while a + 4 <= len(tr):
            t, v = struct.unpack('>HH', tr[a:a + 4])
            if t & 0x8000:
                if t & 0x7fff == 2:
                    return v
                a += 4
            else:
                a += 4 + v
    except Exception:
        pass
    return None


def ipbytes(a):
    return ipaddress.ip_address(a).packed


def natd(cap):
    res = []
    hash_alg = {}                              # icky -> alg from a responder SA
    msgs = []
    for d in frames(cap):
        kind, ike = classify(d)
        if ike is None:
            continue
        h = parse_ike(ike)
        msgs.append((d, h))
        if h['ver'] == 1 and h['rspi'] != b'\0' * 8:
            for t, body in h['payloads']:
                if t == 1 and body:
                    alg = v1_hash_alg(body)
                    if alg:
                        hash_alg.setdefault(h['ispi'], alg)
    for d, h in msgs:
        src = (d['src'], d['sport'])
        dst = (d['dst'], d['dport'])
        if h['ver'] == 2:
            for t, body in h['payloads']:
                if t != 41 or not body or len(body) < 4:
                    continue
                spisz = body[1]
                ntype = struct.unpack('>H', body[2:4])[0]
                data = body[4 + spisz:]
                if ntype not in (16388, 16389):
                    continue
                kindh = 'src' if ntype == 16388 else 'dst'
                ip, port = src if kindh == 'src' else dst
                c = hashlib.sha1(h['ispi'] + h['rspi'] + ipbytes(ip) +
                                 struct.pack('>H', port)).digest()
                res.append(dict(frame=d['frame'], kind=kindh, ip=ip, port=port,
                                alg='sha1', computed=c.hex(),
                                observed=data.hex(), match=c == data))
        else:
            nds = [b for t, b in h['payloads'] if t in (15, 20, 130) and b]
            for i, data in enumerate(nds):
                kindh = 'dst' if i == 0 else 'src'
                ip, port = dst if kindh == 'dst' else src
                tail = h['ispi'] + h['rspi'] + ipbytes(ip) + struct.pack('>H', port)
                alg = hash_alg.get(h['ispi'])
                algs = [alg] if alg else list(HASHES)
                c = None
                for a in algs:
                    c = hashlib.new(HASHES.get(a, 'sha1'), tail).digest()
                    if c == data:
                        break
                name = HASHES.get(c and a, '?') + ('' if alg else ' (guessed: no SA seen)')
                res.append(dict(frame=d['frame'], kind=kindh, ip=ip, port=port,
                                alg=name, computed=c.hex(), observed=data.hex(),
                                match=c == data))
    return res


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    cap = sys.argv[1]
    if not os.path.exists(cap):
        print('skip: capture %s absent' % cap)
        return 0
    r = natd(cap)
    if not r:
        print('no NAT-D hash visible in', cap)
    for x in r:
        print('frame %d %s %s %s:%d %s computed=%s observed=%s' % (
            x['frame'], x['kind'], 'match' if x['match'] else 'mismatch',
            x['ip'], x['port'], x['alg'], x['computed'], x['observed']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
