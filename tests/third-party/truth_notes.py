"""Hand-written judgement merged into ground-truth.json by build_truth.py."""
NOTES = {}
SA_NOTES = {}


def merge(name, t):
    n = NOTES.get(name, {})
    for k, v in n.items():
        t[k] = v
    for sa in t['sas']:
        s = SA_NOTES.get((name, sa['ispi'])) or SA_NOTES.get((name, '*'))
        if s:
            for k, v in s.items():
                sa[k] = v
