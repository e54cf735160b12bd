#!/usr/bin/env python3
"""verify.py [DIR]: sanity-check the captures against their truth files with
stock tshark. Exit 1 on the first class of failure, print one line per check.

Checks, per truth file:
  - every capture and merged file named in "captures" exists and is readable
  - every IKE SA's icookie appears as isakmp.ispi in each capture that should
    show it, and its rcookie as isakmp.rspi (unless never answered)
  - an SA with a float has IKE on the float ports with the non-ESP marker
  - ESP-in-UDP present wherever libipsec ran at both ends of an established SA
  - keepalives (udpencap.nat_keepalive) present where a side is behind a NAT
    and the SA was established
  - every fault has frames
  - every file named in "shapes" exists, < 1 MB; merged-default has one
    interface and the frames of its two inputs; nat-any/wan-any is Linux
    cooked v2 (sll.ifindex on every frame); each shape file shows the
    cookies of every IKE SA its inputs show
"""
import json
import os
import subprocess
import sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
bad = 0


def tshark(path, flt, fields):
    args = ["tshark", "-r", path, "-Y", flt, "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return [line.split("\t") for line in r.stdout.splitlines() if line.strip()]


def tcp_ike(path, sa):
    """IKE over TCP (RFC 8229): stock tshark has no dissector for it; the
    frames whose TCP payload holds the SA's initiator SPI, and its responder SPI."""
    spi = lambda h: ":".join(h[i:i + 2] for i in range(0, 16, 2))
    rows = tshark(path, "tcp contains %s" % spi(sa["icookie"]), ["frame.number"])
    both = tshark(path, "tcp contains %s && tcp contains %s" % (spi(sa["icookie"]), spi(sa["rcookie"])),
                  ["frame.number"])
    return rows, both


def check(ok, msg):
    global bad
    print(("ok   " if ok else "FAIL ") + msg)
    if not ok:
        bad += 1


for fn in sorted(os.listdir(D)):
    if not fn.endswith(".truth.json"):
        continue
    t = json.load(open(os.path.join(D, fn)))
    scen = t["scenario"]
    for role, cap in t["captures"].items():
        p = os.path.join(D, cap)
        check(os.path.exists(p) and os.path.getsize(p) < 1024 * 1024, "%s: %s exists, < 1 MB" % (scen, cap))
    side_caps = {r: c for r, c in t["captures"].items() if not r.startswith("merged")}
    for sa in t["ike_sas"]:
        ic, rc = sa["icookie"], sa["rcookie"]
        for role, cap in side_caps.items():
            seen_here = (sa["initiator"] or {}).get(role) is not None
            if not seen_here:
                continue
            if sa.get("transport") == "tcp":
                rows, both = tcp_ike(os.path.join(D, cap), sa)
                check(len(rows) > 0, "%s: %s: icookie %s present (TCP)" % (scen, role, ic))
                if rc != "0" * 16 and sa["state"] != "failed":
                    check(len(both) > 0, "%s: %s: rcookie %s present (TCP)" % (scen, role, rc))
                continue
            rows = tshark(os.path.join(D, cap), "isakmp.ispi == %s" % ic, ["isakmp.rspi", "udpencap.non_esp_marker",
                                                                             "udp.srcport", "udp.dstport"])
            check(len(rows) > 0, "%s: %s: icookie %s present" % (scen, role, ic))
            if rc != "0" * 16 and sa["state"] != "failed":
                check(any(r[0].replace(":", "") == rc for r in rows), "%s: %s: rcookie %s present" % (scen, role, rc))
            flt = (sa.get("initiator_float") or {}).get(role)
            if flt and sa["state"] != "failed":
                port = flt.rsplit(":", 1)[1]
                check(any(len(r) > 3 and r[1] and port in (r[2], r[3]) for r in rows),
                      "%s: %s: IKE with non-ESP marker on the float port %s" % (scen, role, port))
        if sa["state"] == "established":
            libipsec_both = all("kernel-libipsec" in t["daemons"].get(n, {}).get("data_plane", "")
                                for n in (sa["daemons"]["initiator"], sa["daemons"]["responder"]) if n) \
                and sa["daemons"]["initiator"] and sa["daemons"]["responder"]
            for role, cap in side_caps.items():
                if libipsec_both and sa["child_sas"]:
                    spis = set()
                    for c in sa["child_sas"]:
                        spis |= {int(c["initiator_spi"], 16), int(c["responder_spi"], 16)}
                    rows = tshark(os.path.join(D, cap), "udp && esp", ["esp.spi"])
                    got = {int(r[0], 16) if r[0].startswith("0x") else int(r[0]) for r in rows if r and r[0]}
                    check(bool(spis & got), "%s: %s: ESP-in-UDP with the SA's SPIs" % (scen, role))
            if sa["initiator_behind_nat"] and sa["daemons"]["initiator"] and "fault" not in scen:
                role0 = t["path"][0]
                rows = tshark(os.path.join(D, side_caps[role0]), "udpencap.nat_keepalive", ["ip.src"])
                ini_ip = sa["initiator"][role0].rsplit(":", 1)[0]
                check(any(r[0] == ini_ip for r in rows) or "rekey" in scen,
                      "%s: %s: keepalives from %s" % (scen, role0, ini_ip))
    for f in t["faults"]:
        check(len(f["frames"]) > 0, "%s: fault %s has frames" % (scen, f["kind"]))
    roles_of = {c: r for r, c in side_caps.items()}
    for shape, boxes in t.get("shapes", {}).items():
        for box, sh in boxes.items():
            p = os.path.join(D, sh["file"])
            ok = os.path.exists(p) and os.path.getsize(p) < 1024 * 1024
            check(ok, "%s: shape %s %s exists, < 1 MB" % (scen, shape, sh["file"]))
            if not ok:
                continue
            rows = tshark(p, "frame", ["frame.interface_id", "sll.ifindex"])
            check(len(rows) == sh["frames"] and len(rows) > 0, "%s: %s has its %d frames" % (scen, sh["file"], sh["frames"]))
            if shape == "merged-default":
                check(len({r[0] for r in rows}) == 1, "%s: %s has one interface" % (scen, sh["file"]))
                n_in = sum(len(tshark(os.path.join(D, c), "frame", ["frame.number"])) for c in sh["inputs"])
                check(n_in == len(rows), "%s: %s = its inputs' %d frames" % (scen, sh["file"], n_in))
                covered = [roles_of[c] for c in sh["inputs"]]
            else:
                check(all(len(r) > 1 and r[1] for r in rows), "%s: %s is Linux cooked (sll.ifindex)" % (scen, sh["file"]))
                covered = sorted({i["capture"] for i in sh["ifindex"].values() if i.get("capture")})
            got = {r[0].replace(":", "") for r in tshark(p, "isakmp", ["isakmp.ispi"])}
            for sa in t["ike_sas"]:
                if sa.get("transport") == "tcp" and any((sa["initiator"] or {}).get(r) for r in covered):
                    check(len(tcp_ike(p, sa)[0]) > 0, "%s: %s: icookie %s present (TCP)" % (scen, sh["file"],
                                                                                          sa["icookie"]))
                elif any((sa["initiator"] or {}).get(r) is not None for r in covered):
                    check(sa["icookie"] in got, "%s: %s: icookie %s present" % (scen, sh["file"], sa["icookie"]))

print("verify: %d failure(s)" % bad)
sys.exit(1 if bad else 0)
