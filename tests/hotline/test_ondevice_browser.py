"""On-device hashing in a real headless Chromium: pictures and videos picked through a real
<input type=file> on a test page that loads only rempart's shipped modules, hashed in the page, and
compared with rempart's Python (pdq-reference.csv, hashlib, rempart.signals). Every request the page
makes is recorded: none carries a picture.

Needs Debian's chromium at /usr/bin/chromium and the ``playwright`` package (as tests/web).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from rempart.signals import FrameHash, compare_videos, fingerprint
from rempart.signals.pdq import pdq_hash
from tests.hotline.ondevice_helpers import (
    STATIC, hamming, ntsc_clip, python_rgb, reference_rows, rgb_md5, rotated,
)
from tests.signals.signals_media import make_video, scene

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = Path(__file__).with_name("ondevice_page.html")
PAGE_SCRIPT = Path(__file__).with_name("ondevice_page.js")
# What /report/hash can be served with: scripts and the worker from the site only, the chosen
# video read through a blob: URL, requests only to the site (the hashes' submission).
CSP = ("default-src 'none'; script-src 'self'; worker-src 'self'; media-src blob:; "
       "connect-src 'self'; img-src 'self'; style-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

# Measured with Chromium 156 (Debian 12): its libjpeg-turbo and libwebp decode every shared JPEG
# and WebP to exactly Pillow's pixels, so the drift of the browser's decoders is 0 bits. Should a
# browser update change that, measure again (bench/browser_pdq.py prints it) and state it here.
JPEG_DRIFT_BITS = 0
# Video frames come from the browser's decoder and colour conversion (Chromium takes BT.709 for
# HD clips that declare no colour matrix, libswscale BT.601): per-frame distance measured at most
# 38 bits (doorknob-hd-no-bar, t=2), median 2; every clip still matches itself at 100%.
VIDEO_FRAME_BITS = 40
VIDEO_QUALITY_POINTS = 5

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's chromium at "
                                                     "/usr/bin/chromium (apt-get install -y chromium)"),
    pytest.mark.skipif(sync_playwright is None, reason="browser tests need the playwright package"),
]


class LocalSite:
    """The test page and the shipped static folder on a local server that logs every request
    (method, path, body length). ``raw`` maps /raw/NAME to bytes the page may fetch."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, int]] = []
        self.raw: dict[str, bytes] = {}
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                site.log.append((self.command, self.path, length))

            def do_GET(self):
                self._record()
                path = urlparse(self.path).path
                if path == "/":
                    body, kind = PAGE.read_bytes(), "text/html"
                elif path == "/page.js":
                    body, kind = PAGE_SCRIPT.read_bytes(), "text/javascript"
                elif path.startswith("/static/") and (STATIC / path[8:]).is_file():
                    body, kind = (STATIC / path[8:]).read_bytes(), "text/javascript"
                elif path.startswith("/raw/") and path[5:] in site.raw:
                    body, kind = site.raw[path[5:]], "application/octet-stream"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Security-Policy", CSP)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # nothing may ever be sent; recorded, then refused
                self._record()
                self.send_error(405)

            do_PUT = do_PATCH = do_DELETE = do_POST

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site():
    s = LocalSite()
    yield s
    s.close()


@pytest.fixture
def page(browser, site):
    """The test page (served with CSP), ready; on teardown, proof that nothing was sent: every
    request the browser made (pages, workers) was a body-less GET for the page, its modules or
    /raw/, or stayed in the browser (blob:); and the server saw only such GETs."""
    context = browser.new_context()
    requests = []
    context.on("request", lambda request: requests.append(request))
    errors = []
    pg = context.new_page()
    pg.on("pageerror", lambda error: errors.append(error))
    pg.goto(site.base + "/")
    pg.wait_for_selector("body[data-ready=yes]", state="attached")
    yield pg
    context.close()
    assert not errors
    assert requests
    for r in requests:
        url = urlparse(r.url)
        if url.scheme == "blob":  # the <video> reads the file through a blob: URL, in the browser
            assert r.url.startswith("blob:" + site.base + "/"), r.url
            continue
        assert r.method == "GET" and r.post_data_buffer is None, (r.method, r.url)
        assert f"{url.scheme}://{url.netloc}" == site.base, r.url
        assert url.path in ("/", "/page.js") or url.path.startswith(("/static/", "/raw/")), r.url
    assert site.log and all(method == "GET" and length == 0 for method, _, length in site.log)


def _choose(page, paths) -> list[dict]:
    page.set_input_files("#files", [str(p) for p in paths])
    return page.evaluate("hashChosen()")


def test_pictures_hash_on_device_as_the_reference(page, site, testdata):
    pdq_dir = testdata / "images" / "pdq"
    rows = reference_rows(pdq_dir)
    results = _choose(page, [pdq_dir / row["file"] for row in rows])
    assert len(results) == len(rows) == 50
    for row, got in zip(rows, results):
        name, data = row["file"], (pdq_dir / row["file"]).read_bytes()
        assert "error" not in got, (name, got)
        assert got["kind"] == "image" and len(got["pdq"]) == 1
        assert got["md5"] == hashlib.md5(data).hexdigest(), name
        [pdq] = got["pdq"]
        if name.endswith(".png"):  # lossless: bit-exact, always
            assert (pdq["hash"], pdq["quality"]) == (row["pdq_hex"], int(row["quality"])), name
        else:  # within the drift of the browser's own decoder (measured: none)
            assert hamming(pdq["hash"], row["pdq_hex"]) <= JPEG_DRIFT_BITS, name
            assert pdq["quality"] == int(row["quality"]), name
        assert (got["width"], got["height"]) == (int(row["width"]), int(row["height"])), name
    # the page asked for its own page and modules only, and sent nothing (checked on teardown)
    assert {path for _, path, _ in site.log} >= {"/", "/static/ondevice.js", "/static/worker.js"}


def test_browser_pixels_and_arithmetic_are_pythons(page, site, testdata):
    """Why the hashes agree: the browser decodes to Python's exact pixels, its float arithmetic is
    the reference's (Python's decoded pixels hashed in the page), and so is its DCT matrix."""
    pdq_dir = testdata / "images" / "pdq"
    names = ["modes/CMYK.jpg", "exif-rotn/exif-rotn-6.jpg", "misc/small.jpg", "modes/LAB.webp",
             "misc/wee.jpg", "modes/P.png", "bridge-mods/shrink-a-lot.jpg"]
    page.set_input_files("#files", [str(pdq_dir / n) for n in names])
    digests = page.evaluate("pixelDigests()")
    reference = {row["file"]: row for row in reference_rows(pdq_dir)}
    for name, got in zip(names, digests):
        rgb = python_rgb((pdq_dir / name).read_bytes())
        assert got == {"name": Path(name).name, "width": rgb.shape[1], "height": rgb.shape[0],
                       "rgb_md5": rgb_md5(rgb)}, name
        site.raw[name.replace("/", "_")] = rgb.tobytes()
        hashed = page.evaluate("([u, w, h]) => hashRawRGB(u, w, h)",
                               [f"/raw/{name.replace('/', '_')}", rgb.shape[1], rgb.shape[0]])
        assert hashed == {"hash": reference[name]["pdq_hex"], "quality": int(reference[name]["quality"])}
    scale = np.float32(np.sqrt(2.0 / 64))
    i, j = np.meshgrid(np.arange(16), np.arange(64), indexing="ij")
    matrix = (np.float64(scale) * np.cos((np.pi / 2 / 64) * (i + 1) * (2 * j + 1))).astype(np.float32)
    assert page.evaluate("dctMatrixBits") == matrix.view(np.uint32).reshape(-1).tolist()


def _encode(rgb, fmt, **params) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **params)
    return buf.getvalue()


def test_orientation_formats_and_transparency_as_python(page, tmp_path):
    rgb = scene(4, (96, 64))
    rgba = np.dstack([rgb, np.tile(np.linspace(0, 255, 96).astype(np.uint8), (64, 1))])
    rgba[:, :20, 3] = 0  # fully transparent, with colour under it (Pillow keeps that colour)
    exif6 = Image.Exif()
    exif6[274] = 6
    xmp8 = b'<x:xmpmeta><rdf:Description tiff:Orientation="8"/></x:xmpmeta>'
    files = {
        "transparent.png": _encode(rgba, "PNG"),
        "transparent.webp": _encode(rgba, "WEBP", lossless=True, exact=True),
        "exif6.webp": _encode(rgb, "WEBP", quality=90, exif=exif6),  # Chromium does not turn it
        "exif6.jpg": _encode(rgb, "JPEG", quality=90, exif=exif6),
        "xmp8.jpg": _encode(rgb, "JPEG", quality=90, xmp=xmp8),  # browsers ignore XMP; Pillow not
        "picture.gif": _encode(rgb, "GIF"),
        "picture.bmp": _encode(rgb, "BMP"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    webgl = page.evaluate("!!new OffscreenCanvas(1, 1).getContext('webgl')")
    results = _choose(page, [tmp_path / name for name in files])
    for (name, data), got in zip(files.items(), results):
        if name == "transparent.webp" and not webgl:
            continue  # documented: without WebGL the colour under transparent pixels is lost
        expected = python_rgb(data)
        assert (got["width"], got["height"]) == (expected.shape[1], expected.shape[0]), name
        hash_, quality = pdq_hash(expected)
        assert got["pdq"] == [{"hash": hash_, "quality": quality}], name


def test_videos_match_rempart_at_the_80_percent_rule(page, testdata, tmp_path):
    video_dir = testdata / "video"
    clips = [video_dir / f"{n}.mp4" for n in ("doorknob-hd-no-bar", "pattern-sd-grey-bar",
                                              "test-padded-dimensions")]
    ntsc = ntsc_clip(100)  # vPDQ samples every 29th frame, not whole seconds
    synthetic = {"ntsc.mp4": ntsc, "rot90.mp4": rotated(ntsc, 90),
                 "clip.webm": make_video("webm", seconds=4.5, fps=10)}
    for name, data in synthetic.items():
        (tmp_path / name).write_bytes(data)
    paths = clips + [tmp_path / name for name in synthetic]
    results = _choose(page, paths)
    for path, got in zip(paths, results):
        assert "error" not in got, (path.name, got)
        python = fingerprint(path.read_bytes())
        assert (got["kind"], got["format"], got["md5"]) == ("video", python.format, python.md5)
        assert (got["width"], got["height"]) == (python.width, python.height), path.name
        frames = [FrameHash(f["t"], f["hash"], f["quality"]) for f in got["pdq"]]
        assert [f.t for f in frames] == pytest.approx([f.t for f in python.frames], abs=1e-9)
        for mine, theirs in zip(frames, python.frames):
            assert hamming(mine.pdq, theirs.pdq) <= VIDEO_FRAME_BITS, (path.name, mine.t)
            assert abs(mine.quality - theirs.quality) <= VIDEO_QUALITY_POINTS, (path.name, mine.t)
        result = compare_videos(frames, python.frames)
        assert result.matched and result.query_pct == result.target_pct == 100.0, path.name


def test_a_clip_recorded_in_the_browser_matches(page):
    # MediaRecorder's WebM declares no duration and has a variable frame rate: frames are taken at
    # whole seconds (rempart counts frames at the average rate instead: on a busy machine, fewer
    # frames are recorded and the two pick different frames; the clips still match)
    result, clip = page.evaluate("s => recordAndHash(s)", 3.3)
    python = fingerprint(base64.b64decode(clip))
    assert python.format == result["format"] == "webm" and result["md5"] == python.md5
    assert [f["t"] for f in result["pdq"]] == [0, 1, 2, 3]
    frames = [FrameHash(f["t"], f["hash"], f["quality"]) for f in result["pdq"]]
    assert compare_videos(frames, python.frames).matched


def test_bad_files_are_refused_clearly_and_the_worker_is_optional(page, testdata, tmp_path):
    pdq_dir = testdata / "images" / "pdq"
    files = {
        "notes.txt": b"just some text, not a picture",
        "scan.tiff": _encode(scene(1, (32, 32)), "TIFF"),  # rempart reads TIFF; browsers cannot
        "cut.jpg": (pdq_dir / "misc" / "wee.jpg").read_bytes()[:300],
        "big.png": (pdq_dir / "pen-and-coaster.png").read_bytes(),  # 924 x 735 pixels
        "long.webm": make_video("webm", seconds=3, fps=5),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    page.set_input_files("#files", [str(tmp_path / name) for name in files])
    limits = {"max_image_bytes": 1 << 26, "max_video_bytes": 1 << 29, "max_pixels": 500_000,
              "max_video_seconds": 2}
    for worker in (True, False):
        got = page.evaluate("o => hashChosen(o)", {"limits": limits, "worker": worker})
        assert [g.get("error") for g in got] == ["unsupported", "unsupported", "corrupt", "limit", "limit"]
        assert (got[3]["limit"], got[3]["value"], got[3]["maximum"]) == ("pixels", 924 * 735, 500_000)
        assert (got[4]["limit"], got[4]["value"], got[4]["maximum"]) == ("seconds", 3, 2)
    page.set_input_files("#files", [str(pdq_dir / "misc" / "c.png"), str(pdq_dir / "misc" / "wee.jpg")])
    on_page = [{k: v for k, v in r.items() if k != "ms"} for r in page.evaluate("hashChosen({worker: false})")]
    in_worker = [{k: v for k, v in r.items() if k != "ms"} for r in page.evaluate("hashChosen()")]
    assert on_page == in_worker and all(len(r["pdq"]) == 1 for r in on_page)
