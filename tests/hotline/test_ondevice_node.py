"""The on-device hashing engine's arithmetic and parsers, run under Node against rempart's Python.

The browser tests (test_ondevice_browser.py) show what a real page computes; these show why it is
right, case by case: the JavaScript PDQ fed the very pixels Python decoded gives the reference's
hash, quality and every one of the 256 DCT floats; the PNG decoder gives Pillow's pixels for every
colour type, bit depth, interlacing and orientation source; MD5, sniffing, orientations, limits and
the MP4 reader agree with their Python counterparts.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from dataclasses import asdict

import av
import numpy as np
import pdqhash
import pytest
from PIL import Image

from rempart.errors import CorruptMedia, UnsupportedMedia
from rempart.signals.decode import orient
from rempart.signals.limits import Limits
from rempart.signals.pdq import pdq_hash
from rempart.signals.sniff import sniff
from tests.hotline.ondevice_helpers import (
    NODE, STATIC, ntsc_clip, python_rgb, reference_rows, rgb_md5, rotated, run_node,
)
from tests.hotline.pngcraft import CHANNELS, chunk, exif_orientation, png

pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js (apt-get install -y nodejs)")


def _dct_bits(rgb: np.ndarray) -> str:
    """The reference's 16 x 16 DCT floats (row-major) as little-endian float32 hex."""
    floats, _quality = pdqhash.compute_float(np.ascontiguousarray(rgb))
    return np.asarray(floats, dtype="<f4")[::-1].tobytes().hex()


def _pixel_cases(tmp_path, arrays: dict[str, np.ndarray]) -> list[dict]:
    cases = []
    for i, (name, rgb) in enumerate(arrays.items()):
        path = tmp_path / f"pixels-{i}.rgb"
        path.write_bytes(np.ascontiguousarray(rgb).tobytes())
        cases.append({"path": str(path), "width": rgb.shape[1], "height": rgb.shape[0]})
    return cases


def test_pdq_is_bit_exact_on_the_pixels_python_decoded(testdata, tmp_path):
    pdq_dir = testdata / "images" / "pdq"
    rows = reference_rows(pdq_dir)
    decoded = {row["file"]: python_rgb((pdq_dir / row["file"]).read_bytes()) for row in rows}
    got = run_node(tmp_path, {"pixels": _pixel_cases(tmp_path, decoded)})["pixels"]
    assert len(got) == len(rows) == 50
    for row, js in zip(rows, got):
        name = row["file"]
        assert (js["hash"], js["quality"]) == (row["pdq_hex"], int(row["quality"])), name
        assert js["dct"] == _dct_bits(decoded[name]), name  # every float, bit for bit


def test_pdq_edge_sizes_match_the_reference(tmp_path):
    # under 5 pixels a side: zero hash; exactly 64 x 64: no blur; windows of 1, 2, 3 pixels
    rng = np.random.default_rng(11)
    sizes = [(1, 1), (4, 9), (9, 4), (5, 5), (64, 64), (63, 64), (64, 65), (7, 300), (300, 7),
             (128, 129), (257, 385), (2, 1000)]
    arrays = {f"{h}x{w}": rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes}
    arrays["flat"] = np.full((80, 90, 3), 77, np.uint8)  # all-equal DCT: the median's ties
    got = run_node(tmp_path, {"pixels": _pixel_cases(tmp_path, arrays)})["pixels"]
    for (name, rgb), js in zip(arrays.items(), got):
        assert (js["hash"], js["quality"]) == pdq_hash(rgb), name
        if min(rgb.shape[:2]) >= 5:
            assert js["dct"] == _dct_bits(rgb), name


def _png_cases() -> dict[str, bytes]:
    """Every colour type and bit depth, interlaced or not, odd sizes, and the orientation sources."""
    rng = np.random.default_rng(7)
    cases = {}
    depths = {0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]}
    for colour, bits in depths.items():
        for depth in bits:
            for interlace in (False, True):
                for h, w in [(13, 17), (1, 1), (3, 2)]:
                    samples = rng.integers(0, 2 ** depth, (h, w, CHANNELS[colour]))
                    palette = (bytes(rng.integers(0, 256, 3 * min(2 ** depth, 200)).astype(np.uint8))
                               if colour == 3 else None)
                    cases[f"type{colour}-{depth}bit-i{int(interlace)}-{h}x{w}"] = png(
                        samples, colour, depth, interlace=interlace, palette=palette)
    base = rng.integers(0, 256, (6, 9, 3))
    for o in range(10):  # 0 and 9 are not orientations: upright
        cases[f"eXIf-{o}"] = png(base, 2, 8, extra=[chunk(b"eXIf", exif_orientation(o, o % 2 == 0))])

    def xmp(o):
        return f'<x:xmpmeta><rdf:Description tiff:Orientation="{o}"/></x:xmpmeta>'.encode()
    itxt = b"XML:com.adobe.xmp\0"
    cases["xmp-iTXt"] = png(base, 2, 8, extra=[chunk(b"iTXt", itxt + b"\0\0\0\0" + xmp(6))])
    cases["xmp-iTXt-deflated"] = png(base, 2, 8, extra=[
        chunk(b"iTXt", itxt + b"\1\0\0\0" + zlib.compress(xmp(8)))])
    cases["xmp-tEXt"] = png(base, 2, 8, extra=[chunk(b"tEXt", itxt + xmp(5))])
    cases["xmp-zTXt"] = png(base, 2, 8, extra=[chunk(b"zTXt", itxt + b"\0" + zlib.compress(xmp(3)))])
    cases["eXIf-0-beats-xmp"] = png(base, 2, 8, extra=[
        chunk(b"eXIf", exif_orientation(0)), chunk(b"iTXt", itxt + b"\0\0\0\0" + xmp(6))])
    cases["damaged-eXIf-beats-xmp"] = png(base, 2, 8, extra=[
        chunk(b"eXIf", b"garbage!"), chunk(b"iTXt", itxt + b"\0\0\0\0" + xmp(6))])
    raw = b"Exif\0\0" + exif_orientation(7)
    profile = f"\nexif\n{len(raw):8d}\n".encode() + raw.hex().encode()
    cases["imagemagick-raw-profile"] = png(base, 2, 8, extra=[
        chunk(b"zTXt", b"Raw profile type exif\0\0" + zlib.compress(profile))])
    cases["eXIf-after-image-data"] = (png(base, 2, 8)[:-12] + chunk(b"eXIf", exif_orientation(6))
                                      + chunk(b"IEND", b""))
    cases["palette-shorter-than-indices"] = png(np.array([[0, 1, 2, 3, 1, 0, 3, 2]] * 5), 3, 2,
                                                palette=bytes([10, 20, 30, 40, 50, 60]))
    cases["tRNS-ignored"] = png(rng.integers(0, 16, (5, 7)), 0, 4, extra=[chunk(b"tRNS", b"\0\3")])
    cases["no-IEND"] = png(base, 2, 8)[:-12]
    rgba = np.dstack([base, np.zeros((6, 9), int)])  # fully transparent: the colour is kept
    cases["transparent"] = png(rgba, 6, 8)
    return cases


def test_png_decoder_gives_pillows_pixels(testdata, tmp_path):
    cases = _png_cases()
    pdq_dir = testdata / "images" / "pdq"
    for path in sorted(pdq_dir.rglob("*.png")):
        cases[str(path.relative_to(pdq_dir))] = path.read_bytes()
    assert len(cases) > 110
    paths = []
    for i, data in enumerate(cases.values()):
        (tmp_path / f"{i}.png").write_bytes(data)
        paths.append({"path": str(tmp_path / f"{i}.png")})
    got = run_node(tmp_path, {"png": paths})["png"]
    for (name, data), js in zip(cases.items(), got):
        rgb = python_rgb(data)
        assert js == {"width": rgb.shape[1], "height": rgb.shape[0], "rgb_md5": rgb_md5(rgb)}, name


def test_png_decoder_treats_damaged_files_as_python_does(tmp_path):
    rng = np.random.default_rng(3)
    good = png(rng.integers(0, 256, (8, 8, 3)), 2, 8)
    idat = good.index(b"IDAT") - 4
    refused = {
        "signature": b"\x89PNX" + good[4:],
        "cut in the image data": good[:idat + 30],
        "bad depth": good[:24] + b"\x03" + good[25:],
    }
    decoded = {  # Pillow decodes these; so must the browser, to the same pixels
        "palette without PLTE": png(np.arange(16).reshape(4, 4) * 13, 3, 8),
        "unknown filter from row 2": png(rng.integers(0, 256, (4, 4, 3)), 2, 8, filters=(0, 7)),
    }
    cases = {**refused, **decoded}
    for i, data in enumerate(cases.values()):
        (tmp_path / f"bad{i}.png").write_bytes(data)
    got = run_node(tmp_path, {"png": [{"path": str(tmp_path / f"bad{i}.png")} for i in range(len(cases))]})
    for (name, data), js in zip(cases.items(), got["png"]):
        if name in refused:
            assert js == {"error": "corrupt"}, name
            with pytest.raises(CorruptMedia):
                python_rgb(data, "png")
        else:
            rgb = python_rgb(data, "png")
            assert js == {"width": rgb.shape[1], "height": rgb.shape[0], "rgb_md5": rgb_md5(rgb)}, name


def test_md5_matches_hashlib_across_block_and_slice_boundaries(tmp_path):
    rng = np.random.default_rng(5)
    cases, expected = [], []
    for length in (0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_003):
        data = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        path = tmp_path / f"{length}.bin"
        path.write_bytes(data)
        for slice_bytes in (1, 7, 64, 4096) if length <= 1000 else (7, 4096):
            cases.append({"path": str(path), "slice": slice_bytes})
            expected.append({"md5": hashlib.md5(data).hexdigest()})
    assert run_node(tmp_path, {"md5": cases})["md5"] == expected


def test_sniffing_agrees_with_python(tmp_path):
    heads = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF\0\0\0\0WEBPVP8 ",
             b"BM\0\0\0\0\0\0\0\0\0\0\0\0", b"\0\0\0\x18ftypisom", b"\0\0\0\x14ftypqt  ",
             b"\0\0\0\x08moov", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm", b"\x1a\x45\xdf\xa3matroska",
             b"%PDF-1.7", b"BM\0\0\0\0\1\0\0\0\0\0\0\0", b""]
    got = run_node(tmp_path, {"sniff": [{"hex": h.hex()} for h in heads]})["sniff"]
    for head, js in zip(heads, got):
        try:
            assert js == asdict(sniff(head)), head
        except UnsupportedMedia:
            assert js == {"error": "unsupported"}, head
    tiff = run_node(tmp_path, {"sniff": [{"hex": b"II*\0".hex()}]})["sniff"]
    assert sniff(b"II*\0").format == "tiff" and tiff == [{"error": "unsupported"}]  # browsers can't


def test_orientations_move_pixels_as_python_does(tmp_path):
    rgba = np.random.default_rng(9).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    path = tmp_path / "rgba.raw"
    path.write_bytes(rgba.tobytes())
    cases = [{"path": str(path), "width": 7, "height": 5, "orientation": o} for o in range(1, 9)]
    got = run_node(tmp_path, {"orient": cases})["orient"]
    for o, js in zip(range(1, 9), got):
        turned = orient(rgba, o)
        assert js == {"width": turned.shape[1], "height": turned.shape[0],
                      "rgba_md5": rgb_md5(turned)}, o


def test_default_limits_are_pythons(tmp_path):
    [limits] = run_node(tmp_path, {"limits": [{}]})["limits"]
    python = Limits()
    assert limits == {name: getattr(python, name) for name in limits}
    assert set(limits) == {"max_image_bytes", "max_video_bytes", "max_pixels", "max_video_seconds"}


def test_mp4_reader_gives_vpdq_frame_count_and_rate(testdata, tmp_path):
    video_dir = testdata / "video"
    clips = sorted(video_dir.glob("*.mp4"))
    ntsc = ntsc_clip(40)
    extra = {"ntsc.mp4": ntsc, "rot90.mp4": rotated(ntsc, 90), "rot270.mp4": rotated(ntsc, 270),
             "rot180.mp4": rotated(ntsc, 180), "not-mp4.mp4": b"\0\0\0\x08free" + b"x" * 40}
    for name, data in extra.items():
        (tmp_path / name).write_bytes(data)
    paths = clips + [tmp_path / name for name in extra]
    got = run_node(tmp_path, {"mp4": [{"path": str(p)} for p in paths]})["mp4"]
    for path, js in zip(paths, got):
        if path.name == "not-mp4.mp4":
            assert js is None
            continue
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps, size = float(stream.average_rate), (stream.width, stream.height)
            if path.parent == video_dir:  # Meta's vPDQ hashed every frame: one line each
                frames = len((video_dir / f"{path.stem}.vpdq.txt").read_text().splitlines())
            else:
                frames = sum(1 for _ in container.decode(stream))
        assert (js["frames"], js["width"], js["height"]) == (frames, *size), path
        assert js["fps"] == pytest.approx(fps, rel=1e-9), path
        assert js["rotation"] == {"rot90.mp4": 90, "rot180.mp4": 180, "rot270.mp4": 270}.get(path.name, 0)


def test_orientation_probes_are_what_image_js_says():
    source = (STATIC / "image.js").read_text()
    probes = dict(re.findall(r'^\s+(jpeg|webp): "([A-Za-z0-9+/=]+)",$', source, re.M))
    assert set(probes) == {"jpeg", "webp"}
    for fmt, b64 in probes.items():
        im = Image.open(io.BytesIO(base64.b64decode(b64)))
        assert im.format.lower() == fmt and im.size == (2, 1) and im.getexif()[274] == 6
