#!/usr/bin/env python3
"""Build ground-truth.json from the captures (stock tshark + hand parsing).

The mechanical part (which frame is which message, retransmission /
duplicate / fragment links, unanswered requests, NAT-D recomputation, ESP
SPIs and counts, keepalives, time order) is derived here by the rules written
in README.md; everything that needs judgement (verdicts, roles when the
protocol does not give them, oddities, notes) is written by hand in
truth_notes.py and merged over it.  Usage:

  python3 tests/third-party/build_truth.py [CAPDIR] > tests/third-party/ground-truth.json
"""
import json, os, struct, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natd_recompute import frames, classify, parse_ike, natd
import truth_notes

CAPDIR = '/work/shared/captures/ikes'
BIG = {'flowcontainer_l2tp.pcap', 'mercury_emix.pcap'}
EX2 = {34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA',
       37: 'INFORMATIONAL', 43: 'IKE_INTERMEDIATE'}
NOTIFY = {14: 'NO_PROPOSAL_CHOSEN', 17: 'INVALID_KE_PAYLOAD', 16390: 'COOKIE',
          16407: 'REDIRECT', 16408: 'REDIRECTED_FROM'}


def shape(cap):
    out = subprocess.run(['tshark', '-n', '-r', cap, '-T', 'fields', '-e',
                          'frame.time_epoch', '-e', 'frame.protocols', '-e',
                          'frame.cap_len', '-e', 'frame.len'],
                         capture_output=True, text=True).stdout.splitlines()
    ts, link, ipv, trunc = [], set(), set(), []
    for n, l in enumerate(out, 1):
        t, p, cl, fl = l.split('\t')
        ts.append(float(t))
        pp = p.split(':')
        link.add(pp[0])
        if 'ip' in pp: ipv.add('IPv4')
        if 'ipv6' in pp: ipv.add('IPv6')
        if cl != fl: trunc.append(n)
    back = [i + 2 for i in range(len(ts) - 1) if ts[i + 1] < ts[i]]
    return dict(frames=len(ts), link_types=sorted(link), ip_versions=sorted(ipv),
                time_monotonic=not back, frames_earlier_than_previous=back,
                all_timestamps_equal=len(set(ts)) == 1 and len(ts) > 1,
                truncated_frames=trunc)


def ep(ip, port):
    return {'ip': ip, 'port': port}


def analyse(cap):
    name = os.path.basename(cap)
    df = 'udp.port==500 or udp.port==4500' if name in BIG else 'udp'
    msgs, esp, ka = [], {}, []
    for d in frames(cap, df):
        kind, ike = classify(d)
        if ike is not None:
            h = parse_ike(ike)
            msgs.append((d, h, kind, ike))
        elif kind == 'esp-udp':
            spi = d['payload'][:4].hex()
            k = (spi, d['src'], d['sport'], d['dst'], d['dport'], 'udp')
            esp.setdefault(k, []).append((d['frame'], d['time']))
        elif kind == 'keepalive':
            ka.append(d)
    out = subprocess.run(['tshark', '-n', '-r', cap, '-Y', 'esp and not udp', '-T',
                          'fields', '-e', 'frame.number', '-e', 'frame.time_epoch',
                          '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e',
                          'ipv6.dst', '-e', 'esp.spi'], capture_output=True,
                         text=True).stdout
    for l in out.splitlines():
        f, t, s4, d4, s6, d6, spi = (l.split('\t') + [''] * 7)[:7]
        k = ('%08x' % int(spi, 16), s4 or s6, None, d4 or d6, None, 'raw')
        esp.setdefault(k, []).append((int(f), float(t)))
    hashes = natd(cap) if name not in BIG else []
    hashes_by_frame = {}
    for x in hashes:
        hashes_by_frame.setdefault(x['frame'], []).append(x)

    sas = {}
    for d, h, kind, raw in msgs:
        key = (h['ver'], h['ispi'].hex())
        sas.setdefault(key, []).append((d, h, kind, raw))
    result = []
    for (ver, ispi), ml in sas.items():
        result.append(sa_truth(ver, ispi, ml, hashes_by_frame))
    # ESP ownership: same address pair (and port pair for UDP), latest SA
    # whose child-creating exchange completed before the first ESP packet.
    esp_out = []
    for k, fl in sorted(esp.items(), key=lambda kv: kv[1][0][0]):
        spi, s, sp, dd, dp, tr = k
        first_t = fl[0][1]
        cands = []
        for sa in result:
            a = {sa['_iep'], sa['_rep']} | set(sa['_float_eps'])
            ips = {x[0] for x in a}
            if tr == 'udp':
                ok = (s, sp) in a and (dd, dp) in a
            else:
                ok = s in ips and dd in ips
            if ok:
                cands.append(sa)
        owner, how = None, 'no IKE SA seen for this address pair'
        if cands:
            before = [(t, c) for c in cands for t in c['_child_t'] if t <= first_t]
            if len(cands) == 1:
                owner, how = cands[0], 'only IKE SA on this address%s pair' % (
                    '/port' if tr == 'udp' else '')
            elif before:
                owner = max(before, key=lambda tc: tc[0])[1]
                how = 'timing: latest SA whose child-creating exchange completed before the first packet (%d SAs share the pair)' % len(cands)
            else:
                how = 'ambiguous: %d SAs share the pair' % len(cands)
        if owner is not None:
            idir = 'initiator->responder' if s == owner['_iep'][0] or s == owner['_iep'] else 'responder->initiator'
            if tr == 'udp':
                idir = 'initiator->responder' if (s, sp) in (owner['_iep'], owner['_float_eps'][0] if owner['_float_eps'] else None) else 'responder->initiator'
            else:
                idir = 'initiator->responder' if s == owner['_iep'][0] else 'responder->initiator'
        else:
            idir = None
        e = dict(spi=spi, dir='%s%s > %s%s' % (s, ':%d' % sp if sp else '', dd, ':%d' % dp if dp else ''),
                 role_dir=idir, transport=tr, packets=len(fl), first_frame=fl[0][0],
                 last_frame=fl[-1][0], ike_sa=(owner['ispi'] if owner else None),
                 ownership=how)
        if owner is not None:
            owner['esp'].append({k2: e[k2] for k2 in ('spi', 'dir', 'role_dir', 'transport', 'packets', 'first_frame', 'last_frame', 'ownership')})
        esp_out.append(e)
    kal = []
    for d in ka:
        kal.append(dict(frame=d['frame'], src='%s:%d' % (d['src'], d['sport']),
                        dst='%s:%d' % (d['dst'], d['dport'])))
    byd = {}
    for d in ka:
        byd.setdefault('%s:%d > %s:%d' % (d['src'], d['sport'], d['dst'], d['dport']), []).append(d['time'])
    ka_sum = {k: {'count': len(v), 'intervals_s': [round(v[i + 1] - v[i], 3) for i in range(len(v) - 1)]}
              for k, v in byd.items()}
    for sa in result:
        for k in list(sa):
            if k.startswith('_'):
                del sa[k]
    return dict(shape=shape(cap), sas=result, esp=esp_out,
                keepalives={'frames': kal, 'per_direction': ka_sum})


def sa_truth(ver, ispi, ml, hbf):
    ml = sorted(ml, key=lambda m: (m[0]['time'], m[0]['frame']))
    rspi = next((h['rspi'].hex() for d, h, k, r in ml if h['rspi'] != b'\0' * 8), '0' * 16)
    iep = rep = None
    roles_source = None
    if ver == 2:
        inits = [m for m in ml if m[1]['exch'] == 34] or ml
        for d, h, k, r in inits:
            i_flag = bool(h['flags'] & 0x08)
            r_flag = bool(h['flags'] & 0x20)
            if i_flag:
                iep, rep = (d['src'], d['sport']), (d['dst'], d['dport'])
            else:
                iep, rep = (d['dst'], d['dport']), (d['src'], d['sport'])
            roles_source = 'I flag'
            break
    else:
        first = ml[0]
        for d, h, k, r in ml:
            types = [t for t, b in h['payloads']]
            if h['exch'] in (2, 4) and h['rspi'] == b'\0' * 8 and 1 in types:
                iep, rep = (d['src'], d['sport']), (d['dst'], d['dport'])
                roles_source = 'MM1 position' if h['exch'] == 2 else 'AM1 position'
                break
        if iep is None:
            for d, h, k, r in ml:
                types = [t for t, b in h['payloads']]
                if h['exch'] in (2, 4) and 1 in types:
                    iep, rep = (d['dst'], d['dport']), (d['src'], d['sport'])
                    roles_source = 'MM2 position (response only)' if h['exch'] == 2 else 'AM2 position (response only)'
                    break
        if iep is None:
            d = first[0]
            iep, rep = (d['src'], d['sport']), (d['dst'], d['dport'])
            roles_source = 'unknown: no phase-1 message seen; initiator/responder below are only first sender/receiver'
    # float: first message (time order) whose endpoints differ from the first exchange's
    float_eps = []
    fl = None
    for d, h, k, r in ml:
        a_, b_ = (d['src'], d['sport']), (d['dst'], d['dport'])
        if {a_, b_} == {iep, rep}:
            continue
        if ver == 2:
            from_i = bool(h['flags'] & 0x08)
        elif a_ == rep or b_ == iep:
            from_i = False
        elif a_ == iep or b_ == rep:
            from_i = True
        else:
            from_i = d['src'] == iep[0]
        a, b = (a_, b_) if from_i else (b_, a_)
        fl = {'initiator': ep(*a), 'responder': ep(*b), 'first_frame': d['frame']}
        float_eps = [a, b]
        break
    allI = {iep} | ({float_eps[0]} if float_eps else set())

    def from_init(d, h=None):
        if ver == 2 and h is not None:
            return bool(h['flags'] & 0x08)
        s = (d['src'], d['sport'])
        if s in allI:
            return True
        if float_eps and s == float_eps[1] or s == rep:
            return False
        return d['src'] == iep[0]

    messages = []
    seen_bytes = {}
    last_in_dir = {}
    unanswered = []
    child_t = []
    pending = {}
    v1state = {}
    for d, h, k, raw in ml:
        fi = from_init(d, h)
        types = [t for t, b in h['payloads']]
        rel = {'retransmission_of': None, 'duplicate_of': None, 'fragment_of': None}
        key = (raw, fi)
        prev = seen_bytes.get(key)
        if prev is not None:
            pd = prev
            same_id = pd['ip.id'] == d['ip.id'] and d['ip.id'] not in ('', '0x0000')
            if same_id and d['time'] - pd['time'] < 0.005:
                rel['duplicate_of'] = pd['frame']
            else:
                rel['retransmission_of'] = pd['frame']
        else:
            seen_bytes[key] = d
        notes = []
        for t, b in h['payloads']:
            if t == 41 and b and len(b) >= 4:
                nt = struct.unpack('>H', b[2:4])[0]
                if nt in NOTIFY:
                    notes.append(NOTIFY[nt])
            if t == 11 and b and len(b) >= 8:
                nt = struct.unpack('>H', b[6:8])[0]
                notes.append('notify %d%s' % (nt, ' NO-PROPOSAL-CHOSEN' if nt == 14 else ''))
        if ver == 2:
            isresp = bool(h['flags'] & 0x20)
            odd_flags = h['flags'] & 0xc7
            if odd_flags and h['exch'] == 34 and h['rspi'] == b'\0' * 8 and 33 in types:
                isresp = False          # R bit set on what is by content a request
            what = '%s %s mid=%d (%s)' % (EX2.get(h['exch'], 'exch %d' % h['exch']),
                                        'response' if isresp else 'request', h['msgid'],
                                        'from initiator' if h['flags'] & 0x08 else 'from responder')
            if 53 in types:
                b = dict(h['payloads'])[53]
                num, tot = struct.unpack('>HH', b[0:4])
                what += ' SKF %d/%d' % (num, tot)
                fk = (h['msgid'], isresp, fi)
                if num == 1 and rel['duplicate_of'] is None and rel['retransmission_of'] is None:
                    v1state[('frag', fk)] = d['frame']
                elif num > 1 and rel['duplicate_of'] is None:
                    rel['fragment_of'] = v1state.get(('frag', fk))
            if notes:
                what += ' [' + ', '.join(notes) + ']'
            if h['exch'] != 34 and h['np'] not in (46, 53):
                what += ' [first payload type %d, not SK/SKF: unreadable]' % h['np']
            if odd_flags:
                what += ' [flags 0x%02x: reserved bits set%s]' % (
                    h['flags'], ', R bit set on a request' if h['flags'] & 0x20 and not isresp else '')
            if h['exch'] == 34 and not isresp and prev is None:
                n_init = v1state.get('sainit_req', 0)
                v1state['sainit_req'] = n_init + 1
                if n_init:
                    last = v1state.get('sainit_last_resp_notes') or []
                    what += ' retry (new content) after %s' % (
                        ', '.join(last) if last else 'an earlier request')
            if h['exch'] == 34 and isresp:
                v1state['sainit_last_resp_notes'] = notes
            rq = (h['msgid'], fi, h['exch'])
            if not isresp:
                if rel['duplicate_of'] is None and rel['fragment_of'] is None and rel['retransmission_of'] is None:
                    pending.setdefault((h['msgid'], fi), []).append(d['frame'])
            else:
                pending.pop((h['msgid'], not fi), None)
                if h['exch'] in (35, 36):
                    child_t.append(d['time'])
        else:
            ex = h['exch']
            st = v1state
            if ex in (2, 4):
                p = 'MM' if ex == 2 else 'AM'
                if rel['duplicate_of'] or rel['retransmission_of']:
                    ref = rel['duplicate_of'] or rel['retransmission_of']
                    what = next(m['what'] for m in messages if m['frame'] == ref)
                else:
                    if h['rspi'] == b'\0' * 8:
                        n = 1
                    elif ex == 2:
                        if 1 in types:
                            n = 2
                        elif 4 in types:
                            n = 3 if fi else 4
                        else:
                            n = 5 if fi else 6
                    else:
                        n = 2 if 1 in types else 3
                    what = '%s%d' % (p, n)
                    if n in (1, 3, 5) and p == 'MM' or n == 1 and p == 'AM':
                        pending.setdefault(('p1', n), []).append(d['frame'])
                    else:
                        pending.pop(('p1', n - 1), None)
                    if p == 'AM' and n == 2:
                        pass
            elif ex == 32:
                mk = ('qm', h['msgid'])
                if rel['duplicate_of'] or rel['retransmission_of']:
                    ref = rel['duplicate_of'] or rel['retransmission_of']
                    what = next(m['what'] for m in messages if m['frame'] == ref)
                else:
                    if mk not in st:
                        st[mk] = fi
                        n = 1
                        pending[mk] = [d['frame']]
                    elif fi != st[mk]:
                        n = 2
                        pending.pop(mk, None)
                        child_t.append(d['time'])
                    else:
                        n = 3
                    what = 'QM%d mid=%d' % (n, h['msgid'])
                    if n == 1:
                        what += ' (quick-mode initiator: %s)' % ('phase-1 initiator' if fi else 'phase-1 responder')
            elif ex == 5:
                what = 'INFORMATIONAL (v1) mid=%d from %s' % (h['msgid'], 'initiator' if fi else 'responder')
                if h['flags'] & 1:
                    what += ' encrypted'
            elif ex == 6:
                what = 'TRANSACTION (mode-cfg) mid=%d' % h['msgid']
            else:
                what = 'exchange %d' % ex
            if notes:
                what += ' [' + ', '.join(notes) + ']'
        if k == 'ike-4500-nomarker':
            what += ' (on UDP 4500 WITHOUT non-ESP marker)'
        m = dict(frame=d['frame'], what=what, src='%s:%d' % (d['src'], d['sport']),
                 dst='%s:%d' % (d['dst'], d['dport']))
        m.update(rel)
        messages.append(m)
    for v in pending.values():
        unanswered += v
    hashes = []
    for d, h, k, r in ml:
        for x in hbf.get(d['frame'], []):
            hashes.append(dict(frame=x['frame'], kind=x['kind'], hashed='%s:%d' % (x['ip'], x['port']),
                               alg=x['alg'], computed=x['computed'], observed=x['observed'],
                               match=x['match']))
    mode = {2: 'IKEv2'} if ver == 2 else {}
    modes = sorted({h['exch'] for d, h, k, r in ml})
    if ver == 2:
        mstr = 'IKEv2'
    elif 2 in modes:
        mstr = 'main'
    elif 4 in modes:
        mstr = 'aggressive'
    else:
        mstr = 'unknown (phase 1 not captured)'
    return dict(ispi=ispi, rspi=rspi, version=ver, mode=mstr,
                initiator=ep(*iep), responder=ep(*rep), float=fl,
                roles_source=roles_source, messages=messages,
                unanswered_request_frames=sorted(unanswered), natd=hashes,
                verdict=None, esp=[], _iep=iep, _rep=rep, _float_eps=float_eps,
                _child_t=child_t)


def main():
    capdir = sys.argv[1] if len(sys.argv) > 1 else CAPDIR
    if not os.path.isdir(capdir):
        print('skip: %s absent' % capdir, file=sys.stderr)
        return 0
    allt = {}
    for name in sorted(os.listdir(capdir), key=lambda n: os.path.getsize(os.path.join(capdir, n))):
        t = analyse(os.path.join(capdir, name))
        truth_notes.merge(name, t)
        allt[name] = t
        print('done', name, file=sys.stderr)
    json.dump(dict(sorted(allt.items())), sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    sys.exit(main())
