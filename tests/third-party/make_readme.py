#!/usr/bin/env python3
"""Regenerate the "## Per capture" part of README.md from ground-truth.json and
truth_notes.py (the text above that heading is kept as written)."""
import json, os, sys
from collections import Counter
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import truth_notes

MARK = '## Per capture\n'


def section(t):
    out = []
    p = out.append
    for name in sorted(t):
        c = t[name]; n = truth_notes.NOTES[name]
        p('### %s\n' % name)
        sh = c['shape']
        p('%d frames, link %s, %s, %s%s; %s%s%s. %s\n' % (
            sh['frames'], '/'.join(sh['link_types']), '+'.join(sh['ip_versions']) or 'no IP',
            n['capture']['sides'], ', starts mid-tunnel' if n['capture']['starts_mid_tunnel'] else '',
            'capture duplicates' if n['capture']['duplicates'] else 'no capture duplicates',
            '' if sh['time_monotonic'] else ', NOT in time order (frames %s)' % sh['frames_earlier_than_previous'],
            ', all timestamps equal' if sh['all_timestamps_equal'] else '', n['capture']['notes']))
        if not c['sas']:
            p('No IKE SA. Verdict: not applicable.\n')
        elif len(c['sas']) > 8:
            cnt = Counter(s['verdict']['value'] for s in c['sas'])
            p('SAs: %d IKEv%d SAs, verdicts %s; per-SA list in the JSON.\n' % (
                len(c['sas']), c['sas'][0]['version'], dict(cnt)))
        else:
            p('SAs:\n')
            for s in c['sas']:
                fl = ''
                if s['float']:
                    f = s['float']
                    fl = ', float at frame %d to %s:%d <-> %s:%d' % (
                        f['first_frame'], f['initiator']['ip'], f['initiator']['port'],
                        f['responder']['ip'], f['responder']['port'])
                mode = 'IKEv2' if s['version'] == 2 else 'IKEv1 %s' % s['mode']
                nm = sum(1 for h in s['natd'] if h['match'])
                p('* `%s/%s` %s, initiator %s:%d -> responder %s:%d (roles: %s)%s; NAT-D %d/%d match; '
                  'verdict **%s**: %s' % (
                      s['ispi'], s['rspi'], mode, s['initiator']['ip'], s['initiator']['port'],
                      s['responder']['ip'], s['responder']['port'], s['roles_source'].split(':')[0], fl,
                      nm, len(s['natd']), s['verdict']['value'], s['verdict']['evidence']))
            p('')
        if n['oddities']:
            p('Oddities:\n')
            for o in n['oddities']:
                p('* ' + o)
            p('')
        p('What a correct analyser must say here:\n')
        for o in n['must_say']:
            p('* ' + o)
        p('')
    return '\n'.join(out)


def main():
    rd = os.path.join(HERE, 'README.md')
    head = open(rd).read().split(MARK)[0]
    t = json.load(open(os.path.join(HERE, 'ground-truth.json')))
    open(rd, 'w').write(head + MARK + '\n' + section(t))


if __name__ == '__main__':
    main()
