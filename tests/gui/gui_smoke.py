#!/usr/bin/env python3
"""GUI smoke test: the real Wireshark (Qt) under Xvfb with the natt plugin
built in NATT_BUILD_DIR opens a lab capture; the Statistics menu lists natt's
tables; "IPsec NAT-T SAs" opened from that menu shows the capture's SAs; the
"IPsec NAT-T" toolbar's SA list applies natt.sa == N. The screen is read with
tesseract (OCR).

Exit 77 (ctest: skipped) when wireshark, Xvfb, xdotool, ImageMagick's import
or tesseract is missing; nothing is installed by the test (see tests/gui/README.md).

  tests/gui/gui_smoke.py [--shots DIR] [--docs DIR]
      --shots DIR  keep every screenshot
      --docs DIR   also open a floated IKE frame's natt tree and write the
                   README's images there: gui-sa-table.png, gui-packet-tree.png
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.environ.get("NATT_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("NATT_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
CAPTURE = os.path.join(SOURCE_DIR, "test-captures", "01-two-clients-one-nat.outside.pcap")
TRUTH = CAPTURE.replace(".outside.pcap", ".truth.json")


def expect_rows():
    """What the capture's SAs show in the compact table: the initiators
    after the float, as the outside capture shows them (the NAT picks the
    second client's port anew at every lab run: read from the truth file)."""
    import json
    with open(TRUTH) as f:
        return [sa["initiator_float"]["outside"] for sa in json.load(f)["ike_sas"]]


EXPECT_ROWS = expect_rows()
TOOLS = ["wireshark", "Xvfb", "xdotool", "import", "tesseract"]
W, H = 1600, 1000


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


class Screen:
    def __init__(self, display, workdir, shots):
        self.display, self.workdir, self.shots, self.n = display, workdir, shots, 0

    def env(self):
        return dict(os.environ, DISPLAY=self.display)

    def xdo(self, *args):
        return subprocess.run(["xdotool"] + [str(a) for a in args], env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=30).stdout.strip()

    def shot(self, name):
        self.n += 1
        path = os.path.join(self.workdir, "%02d-%s.png" % (self.n, name))
        subprocess.run(["import", "-display", self.display, "-window", "root", path], check=True, timeout=60)
        if self.shots:
            shutil.copy(path, os.path.join(self.shots, os.path.basename(path)))
        return path

    def words(self, path, box=(0, 0, W, H), negate=False):
        """[(text, x, y, pass)] of every word tesseract reads in box (x, y, w, h)
        of the screen: scaled 2x, read as sparse text (menus, popups); with
        negate also light on dark (a highlighted menu entry)."""
        words = []
        x0, y0, bw, bh = box
        for variant, opts in (("sparse", []), ("neg", ["-negate"]))[:2 if negate else 1]:
            img = "%s-%s.png" % (path[:-4], variant)
            subprocess.run(["convert", path, "-crop", "%dx%d+%d+%d" % (bw, bh, x0, y0), "+repage", "-resize", "200%",
                            "-colorspace", "Gray"] + opts + [img], check=True, timeout=60)
            out = subprocess.run(["tesseract", img, "-", "--psm", "11", "tsv"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True, timeout=300).stdout
            for line in out.splitlines()[1:]:
                f = line.split("\t")
                if len(f) == 12 and f[11].strip():
                    x, y, w, h = (int(v) // 2 for v in f[6:10])
                    words.append((f[11].strip(), x0 + x + w // 2, y0 + y + h // 2, variant))
        return words

    def text(self, path, box=(0, 0, W, H)):
        return " ".join(w[0] for w in self.words(path, box))

    def find_line(self, words, *needles, exclude=()):
        """Centre of the needles on the first screen line (one OCR pass, word
        centres within 7 px of the line's first) holding every needle and no
        excluded word."""
        lines = []
        for variant in sorted({w[3] for w in words}):
            line = []
            for t, x, y, _ in sorted((w for w in words if w[3] == variant), key=lambda w: w[2]):
                if line and y - line[0][2] > 7:
                    lines.append(line)
                    line = []
                line.append((t, x, y))
            if line:
                lines.append(line)
        for ws in lines:
            ws = sorted(ws, key=lambda w: w[1])
            text = " ".join(t for t, _, _ in ws)
            if all(n in text for n in needles) and not any(e in text for e in exclude):
                hits = [(x, y) for t, x, y in ws if any(n in t for n in needles)] or [(x, y) for _, x, y in ws]
                return sum(x for x, _ in hits) // len(hits), hits[0][1], text
        return None

    def click(self, x, y):
        self.xdo("mousemove", x, y)
        time.sleep(0.3)
        self.xdo("click", 1)
        time.sleep(1.5)


def packet_tree_shot(scr, dest):
    """The first floated IKE frame of the list, natt's subtree expanded."""
    words = scr.words(scr.shot("list"), (0, 100, 1600, 450))
    row = scr.find_line(words, "floated", "IKE]")
    if not row:
        raise AssertionError("no floated IKE frame in the packet list")
    scr.click(row[0], row[1])
    words = scr.words(scr.shot("frame"), (0, 520, 800, 300))
    natt = scr.find_line(words, "NAT", "Traversal", "analysis")
    if not natt:
        raise AssertionError("no natt item in the packet details")
    scr.click(natt[0], natt[1])
    scr.xdo("key", "shift+Right")
    time.sleep(1.5)
    shutil.copy(scr.shot("packet-tree"), dest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots")
    ap.add_argument("--docs")
    args = ap.parse_args()
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        skip("missing " + ", ".join(missing) + " (apt-get install wireshark-qt xvfb xdotool imagemagick tesseract-ocr)")
    # BUILD/plugins/X.Y/epan/natt.so (BUILD/sanitize/ holds the ASan build).
    so = (sorted(glob.glob(os.path.join(BUILD_DIR, "plugins", "*", "epan", "natt.so"))) or [None])[0]
    if not so or not os.path.exists(CAPTURE):
        skip("no built natt.so in %s or no lab capture" % BUILD_DIR)
    ver = subprocess.run(["pkg-config", "--modversion", "wireshark"], stdout=subprocess.PIPE, text=True).stdout.strip()
    xy = ".".join(ver.split(".")[:2])
    if args.shots:
        os.makedirs(args.shots, exist_ok=True)

    work = tempfile.mkdtemp(prefix="natt-gui-")
    os.chmod(work, 0o755)
    home = os.path.join(work, "home")
    plugdir = os.path.join(work, "plugins", xy, "epan")
    os.makedirs(plugdir)
    os.makedirs(home)
    shutil.copy(so, plugdir)
    shutil.copy(CAPTURE, work)
    cap = os.path.join(work, os.path.basename(CAPTURE))
    run_dir = os.path.join(work, "run")
    os.makedirs(run_dir, mode=0o700)
    # Wireshark run as root ignores personal plugins: run it as nobody.
    as_user = []
    if os.getuid() == 0:
        for root, dirs, files in os.walk(work):
            for p in dirs + files:
                os.chown(os.path.join(root, p), 65534, 65534)
        os.chown(work, 65534, 65534)
        as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    display = None
    for n in range(90, 120):
        if not os.path.exists("/tmp/.X11-unix/X%d" % n) and not os.path.exists("/tmp/.X%d-lock" % n):
            display = ":%d" % n
            break
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "%dx%dx24" % (W, H), "-ac", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ws = None
    problems = []
    try:
        time.sleep(2)
        scr = Screen(display, work, args.shots)
        env = ["env", "-i", "DISPLAY=" + display, "HOME=" + home, "XDG_RUNTIME_DIR=" + run_dir, "LANG=C.UTF-8",
               "PATH=/usr/bin:/bin", "WIRESHARK_PLUGIN_DIR=" + os.path.join(work, "plugins"), "QT_QPA_PLATFORM=xcb"]
        ws = subprocess.Popen(as_user + env + ["wireshark", "-r", cap], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "wireshark.err"), "w"))
        wid = None
        for _ in range(90):
            time.sleep(1)
            out = scr.xdo("search", "--onlyvisible", "--name", os.path.basename(CAPTURE))
            if out:
                wid = out.split()[0]
                break
        if not wid:
            scr.shot("no-window")
            raise AssertionError("no Wireshark window titled with the capture's name")
        scr.xdo("windowsize", wid, W, H)
        scr.xdo("windowmove", wid, 0, 0)
        time.sleep(3)
        scr.shot("main")

        # Statistics menu: natt's entries.
        scr.click(325, 10)
        menu = scr.shot("statistics-menu")
        words = scr.words(menu, (0, 0, 900, 800), negate=True)
        text = " ".join(w[0] for w in words)
        for entry in ("NAT-T SAs", "NAT-T Mappings"):
            if entry not in text:
                problems.append("Statistics menu lacks %r (OCR: %s)" % (entry, text[:400]))
        hit = scr.find_line(words, "NAT-T", "SAs", exclude=("all", "columns"))
        if not hit:
            raise AssertionError("no 'IPsec NAT-T SAs' entry to click")
        scr.click(hit[0], hit[1])
        time.sleep(4)
        table = scr.shot("sa-table")
        ttext = scr.text(table, (300, 150, 1000, 600))
        for cookie in EXPECT_ROWS:
            if cookie not in ttext:
                problems.append("SA table lacks %s (OCR: %s)" % (cookie, ttext[:600]))
        for column in ("Initiator", "Responder", "NAT", "State", "Findings"):
            if column not in ttext:
                problems.append("SA table lacks column %s at its default size" % column)
        if args.docs:
            shutil.copy(table, os.path.join(args.docs, "gui-sa-table.png"))
        close = scr.find_line(scr.words(table, (300, 150, 1000, 600)), "Close")
        if not close:
            raise AssertionError("no Close button on the SA table")
        scr.click(close[0], close[1])

        # View > Additional Toolbars > IPsec NAT-T, then choose SA 2 in its
        # list: the display filter becomes natt.sa == 2.
        scr.click(100, 10)
        words = scr.words(scr.shot("view-menu"), (0, 0, 900, 800), negate=True)
        add = scr.find_line(words, "Additional", "Toolbars")
        if not add:
            raise AssertionError("no View > Additional Toolbars")
        # Qt opens a submenu on hover: move onto the entry, then within it.
        scr.xdo("mousemove", add[0] - 20, add[1])
        time.sleep(0.7)
        scr.xdo("mousemove", add[0] + 20, add[1])
        time.sleep(1.5)
        words = scr.words(scr.shot("additional-toolbars"), (0, 0, 900, 800), negate=True)
        item = scr.find_line(words, "IPsec", "NAT-T")
        if not item:
            raise AssertionError("no IPsec NAT-T under View > Additional Toolbars")
        scr.click(item[0], item[1])
        words = scr.words(scr.shot("toolbar"), (0, 0, 1600, 300))
        box = scr.find_line(words, "all", "frames")
        if not box:
            problems.append("no 'IPsec NAT-T' toolbar with 'all frames'")
        else:
            scr.click(box[0] + 40, box[1])
            words = scr.words(scr.shot("sa-list"), (0, 0, 1600, 300))
            # OCR often reads "SA 2:" as one word.
            sa2 = scr.find_line(words, "SA2") or scr.find_line(words, "SA", "2:")
            if not sa2:
                problems.append("the toolbar's SA list lacks SA 2")
            else:
                scr.click(sa2[0], sa2[1])
                time.sleep(3)
                ftext = scr.text(scr.shot("filtered"), (0, 0, 1600, 450))
                # The filter bar reads "natt.sa == 2" (OCR may garble the
                # digit next to the clear button); the list holds SA 2 only.
                if "natt.sa ==" not in ftext or "SA 1:" in ftext or "SA 2:" not in ftext:
                    problems.append("choosing SA 2 did not apply natt.sa == 2 (OCR: %s)" % ftext[:400])
                elif args.docs:
                    packet_tree_shot(scr, os.path.join(args.docs, "gui-packet-tree.png"))
    finally:
        if ws:
            ws.terminate()
            try:
                ws.wait(10)
            except subprocess.TimeoutExpired:
                ws.kill()
        xvfb.terminate()
        xvfb.wait(10)
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems))
        print("screenshots in " + work)
        return 1
    print("ok: Statistics menu lists natt's tables; the SA table shows %d SAs; the toolbar filters an SA" % len(EXPECT_ROWS))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
