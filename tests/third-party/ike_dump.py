#!/usr/bin/env python3
"""Dump a capture frame by frame as the analyst reads it (helper used to build
ground-truth.json): shape (link type, IPv4/IPv6, time order, duplicates), every
IKE message (ports, IP ID, SPIs, version, exchange, flags, msgid, payload
chain, notify types), ESP-in-UDP / raw ESP SPIs, keepalives.

Usage: python3 tests/third-party/ike_dump.py CAPTURE [display-filter]
"""
import os, struct, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natd_recompute import frames, classify, parse_ike

import hashlib
NATT_VID = {hashlib.md5(n.encode()).hexdigest(): n for n in
            ['RFC 3947', 'draft-ietf-ipsec-nat-t-ike', 'draft-ietf-ipsec-nat-t-ike-00',
             'draft-ietf-ipsec-nat-t-ike-01', 'draft-ietf-ipsec-nat-t-ike-02',
             'draft-ietf-ipsec-nat-t-ike-02\n', 'draft-ietf-ipsec-nat-t-ike-03',
             'draft-ietf-ipsec-nat-t-ike-04', 'draft-ietf-ipsec-nat-t-ike-05',
             'draft-ietf-ipsec-nat-t-ike-06', 'draft-ietf-ipsec-nat-t-ike-07',
             'draft-ietf-ipsec-nat-t-ike-08', 'draft-ietf-ipsec-nat-t-ike-09']}
SHORT = {'RFC 3947': 'rfc', 'draft-ietf-ipsec-nat-t-ike': 'd', 'draft-ietf-ipsec-nat-t-ike-02\n': 'd02n'}
EXCH = {2: 'MM', 4: 'AM', 5: 'INFO1', 6: 'TRANS', 32: 'QM', 34: 'SA_INIT',
        35: 'AUTH', 36: 'CCSA', 37: 'INFO2', 24: 'SESSION_RESUME', 43: 'INTERMEDIATE'}


def raw_esp(cap, dfilter):
    cmd = ['tshark', '-n', '-r', cap, '-Y', '(%s) and esp and not udp' % dfilter,
           '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number',
           '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ip.dst',
           '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'esp.spi', '-e', 'esp.sequence',
           '-e', 'ip.id']
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return [l.split('\t') for l in out.splitlines()]


def main():
    cap = sys.argv[1]
    dfilter = sys.argv[2] if len(sys.argv) > 2 else 'frame'
    if not os.path.exists(cap):
        print('skip: capture absent'); return
    # shape
    out = subprocess.run(['tshark', '-n', '-r', cap, '-T', 'fields', '-e',
                          'frame.time_epoch', '-e', 'frame.protocols'],
                         capture_output=True, text=True).stdout.splitlines()
    ts = [float(l.split('\t')[0]) for l in out]
    back = [i + 2 for i in range(len(ts) - 1) if ts[i + 1] < ts[i]]
    protos = {}
    for l in out:
        p = l.split('\t')[1].split(':')
        key = ':'.join(p[:3])
        protos[key] = protos.get(key, 0) + 1
    print('frames', len(ts), 'time-backwards-at', back[:20], 'protos', protos)
    seen = {}
    espc = {}
    for d in frames(cap, '(%s) and udp' % dfilter):
        kind, ike = classify(d)
        a = '%s:%d>%s:%d' % (d['src'], d['sport'], d['dst'], d['dport'])
        tag = ''
        key = (d['payload'], d['src'], d['dst'], d['sport'], d['dport'])
        if kind not in ('other',) and key in seen:
            f0, t0, id0 = seen[key]
            dt = d['time'] - t0
            tag = ' SAMEBYTES-as-%d dt=%.6f %s' % (f0, dt, 'sameIPID' if id0 == d['ip.id'] else 'newIPID')
        seen.setdefault(key, (d['frame'], d['time'], d['ip.id']))
        if ike is not None:
            h = parse_ike(ike)
            pl = []
            for t, b in h['payloads']:
                s = str(t)
                if t == 41 and b and len(b) >= 4:
                    s += '(%d)' % struct.unpack('>H', b[2:4])[0]
                if t == 11 and b and len(b) >= 4:   # v1 notification: doi(4) proto spisz type
                    s += '(%d)' % struct.unpack('>H', b[6:8])[0]
                if t == 13 and b is not None:
                    n = NATT_VID.get(b.hex())
                    if n:
                        s += '(nat-t:%s)' % SHORT.get(n, 'd' + n[-2:])
                if t == 53 and b and len(b) >= 4:
                    s += '(%d/%d)' % struct.unpack('>HH', b[0:4])
                if t == 132 and b and len(b) >= 4:
                    s += '(id%d #%d last%d)' % (struct.unpack('>H', b[0:2])[0], b[2], b[3])
                pl.append(s)
            print('%5d %.6f %-46s id=%-6s %s v%d %-7s fl=%02x mid=%d i=%s r=%s len=%d [%s]%s' % (
                d['frame'], d['time'], a, d['ip.id'], kind, h['ver'],
                EXCH.get(h['exch'], h['exch']), h['flags'], h['msgid'],
                h['ispi'].hex(), h['rspi'].hex(), h['len'], ' '.join(pl), tag))
        elif kind == 'esp-udp':
            spi = d['payload'][:4].hex()
            seq = struct.unpack('>I', d['payload'][4:8])[0]
            k = (spi, a)
            espc.setdefault(k, [0, d['frame'], 0, seq, seq])
            espc[k][0] += 1; espc[k][2] = d['frame']; espc[k][4] = seq
            if espc[k][0] <= 2:
                print('%5d %.6f %-46s id=%-6s ESPinUDP spi=%s seq=%d len=%d%s' % (
                    d['frame'], d['time'], a, d['ip.id'], spi, seq, len(d['payload']), tag))
        elif kind == 'keepalive':
            print('%5d %.6f %-46s id=%-6s KEEPALIVE%s' % (d['frame'], d['time'], a, d['ip.id'], tag))
        elif 500 in (d['sport'], d['dport']) or 4500 in (d['sport'], d['dport']):
            print('%5d %.6f %-46s id=%-6s OTHER-on-500/4500 len=%d %s' % (
                d['frame'], d['time'], a, d['ip.id'], len(d['payload']), d['payload'][:16].hex()))
    for k, v in espc.items():
        print('ESPinUDP spi=%s %s packets=%d frames %d..%d seq %d..%d' % (k[0], k[1], v[0], v[1], v[2], v[3], v[4]))
    r = {}
    for v in raw_esp(cap, dfilter):
        fr, t, s4, d4, s6, d6, spi, seq, ipid = v + [''] * (9 - len(v))
        k = (spi, (s4 or s6) + '>' + (d4 or d6))
        r.setdefault(k, [0, fr, fr, seq, seq]); r[k][0] += 1; r[k][2] = fr; r[k][4] = seq
    for k, v in r.items():
        print('rawESP spi=%s %s packets=%d frames %s..%s seq %s..%s' % (k[0], k[1], *v))


if __name__ == '__main__':
    main()
