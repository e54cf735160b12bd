#!/usr/bin/env python3
"""Write a copy of strongSwan's kernel-libipsec plugin that does not force
UDP encapsulation, so that charon sends genuine NAT-D hashes.

strongSwan 5.9.8's kernel_libipsec_ipsec_t.get_features() returns
KERNEL_REQUIRE_UDP_ENCAPSULATION | KERNEL_ESP_V3_TFC (5); charon then sends a
random NAT-D hash for its own address. The copy returns KERNEL_ESP_V3_TFC (1),
what charon gets from a kernel with ESP. Behind a real NAT the peers still
float and use ESP-in-UDP (the only data plane libipsec has).

The function is found by disassembly, not by offset: it is the function
`mov $0x5,%eax; ret` whose address kernel_libipsec_ipsec_create() stores
(the first method of kernel_ipsec_t). Anything else fails loudly.

usage: libipsec-honest.py SRC.so DST.so
"""
import re
import shutil
import subprocess
import sys

MOV5_RET = bytes.fromhex("b805000000c3")
MOV1_RET = bytes.fromhex("b801000000c3")


def die(msg):
    sys.exit("libipsec-honest: " + msg)


def objdump(*args):
    r = subprocess.run(["objdump", *args], capture_output=True, text=True)
    if r.returncode != 0:
        die("objdump %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def text_section(path):
    """(vma, file offset, size) of .text."""
    for line in objdump("-h", path).splitlines():
        f = line.split()
        if len(f) >= 6 and f[1] == ".text":
            return int(f[3], 16), int(f[5], 16), int(f[2], 16)
    die("no .text section in " + path)


def lea_targets_in_create(path):
    """Addresses that kernel_libipsec_ipsec_create loads with lea: its methods."""
    dis = objdump("-d", "--no-show-raw-insn", path)
    m = re.search(r"^[0-9a-f]+ <kernel_libipsec_ipsec_create(@@Base)?>:\n(.*?)\n\n", dis, re.M | re.S)
    if not m:
        die("kernel_libipsec_ipsec_create not found in " + path)
    return {int(t, 16) for t in re.findall(r"\blea\s+[-0-9a-fx]+\(%rip\),%\w+\s+#\s*([0-9a-f]+)", m.group(2))}


def find_get_features(path, data):
    vma, off, size = text_section(path)
    targets = lea_targets_in_create(path)
    hits = []
    for addr in sorted(targets):
        if vma <= addr < vma + size:
            fo = off + addr - vma
            if data[fo:fo + len(MOV5_RET)] == MOV5_RET:
                hits.append((addr, fo))
    if len(hits) != 1:
        die("expected exactly one method `mov $0x5,%%eax; ret` stored by kernel_libipsec_ipsec_create, found %d "
            "(another strongSwan build?)" % len(hits))
    return hits[0]


def main():
    if len(sys.argv) != 3:
        die("usage: libipsec-honest.py SRC.so DST.so")
    src, dst = sys.argv[1:]
    orig = open(src, "rb").read()
    data = bytearray(orig)
    addr, fo = find_get_features(src, data)
    data[fo:fo + len(MOV1_RET)] = MOV1_RET
    with open(dst, "wb") as f:
        f.write(data)
    shutil.copymode(src, dst)
    # The copy must disassemble to the patched function and nothing else changed.
    check = open(dst, "rb").read()
    diff = [i for i in range(len(orig)) if check[i] != orig[i]] if len(check) == len(orig) else None
    if diff != [fo + 1]:
        die("patched copy differs from the original in unexpected bytes")
    if lea_targets_in_create(dst) != lea_targets_in_create(src):
        die("patched copy disassembles differently")
    print("libipsec-honest: get_features at 0x%x now returns 1 (KERNEL_ESP_V3_TFC): %s" % (addr, dst))


if __name__ == "__main__":
    main()
