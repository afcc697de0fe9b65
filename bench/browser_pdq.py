"""Benchmark: PDQ in the browser (rempart's on-device engine in Chromium) against ``pdqhash``.

Both hash the same 50 shared reference pictures, one pass each after a warm-up pass, side by side
in one run:

- browser, decode included    decodePicture (Chromium's decoders, rempart's PNG decoder) + PDQ
- browser, decode excluded    PDQ of pixels decoded beforehand
- pdqhash, decode included    rempart.signals.decode (Pillow, EXIF orientation) + pdqhash.compute
- pdqhash, decode excluded    pdqhash.compute of arrays decoded beforehand

The browser runs on the page's main thread (one core, as pdqhash). The files are in memory on both
sides before timing (reading them is not measured). Prints pictures/s and the ratio browser/pdqhash
(above 1: the browser is faster), and the browser's drift from pdq-reference.csv (bits off per
picture: max and median, JPEG/WebP and PNG apart); writes bench/results/browser_pdq.json.

Usage: python bench/browser_pdq.py   (needs /usr/bin/chromium and the playwright package)
"""

from __future__ import annotations

import csv
import functools
import http.server
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pdqhash  # noqa: E402

from rempart.signals.decode import decode_frames  # noqa: E402
from rempart.signals.limits import DEFAULT_LIMITS, Deadline  # noqa: E402
from rempart.signals.sniff import sniff  # noqa: E402

STATIC = ROOT / "rempart" / "hotline" / "static"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

PAGE = b"""<!doctype html><meta charset="utf-8"><title>PDQ bench</title>
<script type="module">
import { decodePicture } from "/static/image.js";
import { sniff } from "/static/media.js";
import { pdqOfPixels } from "/static/pdq.js";
window.bench = async (count) => {
  const files = [];
  for (let i = 0; i < count; i++) files.push(new Uint8Array(await (await fetch(`/file/${i}`)).arrayBuffer()));
  const decodeAndHash = async (bytes) => {
    const { pixels, width, height } = await decodePicture(bytes, sniff(bytes).format);
    return pdqOfPixels(pixels, width, height, 4).hash;
  };
  for (const bytes of files) await decodeAndHash(bytes);  // warm-up: JIT, decoders
  let t0 = performance.now();
  const hashes = [];
  for (const bytes of files) hashes.push(await decodeAndHash(bytes));
  const withDecode = (performance.now() - t0) / 1000;
  const decoded = [];
  for (const bytes of files) decoded.push(await decodePicture(bytes, sniff(bytes).format));
  t0 = performance.now();
  for (const { pixels, width, height } of decoded) pdqOfPixels(pixels, width, height, 4);
  const hashOnly = (performance.now() - t0) / 1000;
  return { withDecode, hashOnly, hashes, userAgent: navigator.userAgent };
};
window.ready = true;
</script>"""


def _testdata() -> Path:
    for candidate in (ROOT.parent / "shared" / "testdata", ROOT / "shared" / "testdata"):
        if (candidate / "README.md").exists():
            return candidate
    raise SystemExit("shared test data not found")


def _browser(files: list[bytes]) -> dict:
    """Serve the bench page, the modules and the files from a scratch folder; run the page."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("the playwright package is needed (pip install playwright)")
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        (site / "index.html").write_bytes(PAGE)
        (site / "static").symlink_to(STATIC)
        (site / "file").mkdir()
        for i, data in enumerate(files):
            (site / "file" / str(i)).write_bytes(data)
        handler = functools.partial(Quiet, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_port}/")
                page.wait_for_function("window.ready === true")
                result = page.evaluate("n => bench(n)", len(files))
                browser.close()
        finally:
            server.shutdown()
    return result


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _python(files: list[bytes]) -> dict:
    def decode(data: bytes):
        return next(decode_frames(data, sniff(data[:64]).format, DEFAULT_LIMITS, Deadline(60))).rgb

    for data in files:  # warm-up, as in the browser
        pdqhash.compute(decode(data))
    t0 = time.perf_counter()
    for data in files:
        pdqhash.compute(decode(data))
    with_decode = time.perf_counter() - t0
    arrays = [decode(data) for data in files]
    t0 = time.perf_counter()
    for rgb in arrays:
        pdqhash.compute(rgb)
    return {"withDecode": with_decode, "hashOnly": time.perf_counter() - t0}


def _bits(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def main() -> None:
    pdq_dir = _testdata() / "images" / "pdq"
    with open(pdq_dir / "pdq-reference.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    files = [(pdq_dir / row["file"]).read_bytes() for row in rows]
    browser = _browser(files)
    python = _python(files)
    n = len(files)
    report = {"pictures": n, "megabytes": round(sum(map(len, files)) / 1e6, 2),
              "browser": browser["userAgent"], "runs": {}}
    print(f"{n} shared reference pictures ({report['megabytes']} MB), one pass each after a warm-up")
    print(f"{'':18} {'browser pic/s':>14} {'pdqhash pic/s':>14} {'ratio':>7}")
    for key, label in (("withDecode", "decode included"), ("hashOnly", "decode excluded")):
        b, p = n / browser[key], n / python[key]
        report["runs"][label] = {"browser_pictures_per_s": round(b, 2),
                                 "pdqhash_pictures_per_s": round(p, 2), "ratio": round(b / p, 3)}
        print(f"{label:18} {b:14.2f} {p:14.2f} {b / p:7.2f}")
    drift = {"png": [], "jpeg/webp": []}
    for row, got in zip(rows, browser["hashes"]):
        drift["png" if row["file"].endswith(".png") else "jpeg/webp"].append(_bits(got, row["pdq_hex"]))
    report["bits_off_reference_csv"] = summary = {
        kind: {"pictures": len(bits), "max": max(bits), "median": statistics.median(bits)}
        for kind, bits in drift.items()}
    for kind, d in summary.items():
        print(f"bits off pdq-reference.csv, {kind}: max {d['max']}, median {d['median']} "
              f"({d['pictures']} pictures)")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "browser_pdq.json").write_text(json.dumps(report, indent=2) + "\n")
    print("wrote bench/results/browser_pdq.json")


if __name__ == "__main__":
    main()
