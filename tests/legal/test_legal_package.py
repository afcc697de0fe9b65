"""Disclosure packages: every altered, added or removed byte fails, and the verdict says why."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from rempart.legal import (
    MediaFile, PackageError, PackageProblem, build_package, manifest_digest, parse_manifest, read_manifest,
    verify_package,
)
from rempart.legal._zip import Entry, write_zip
from rempart.legal.manifest import SIGNATURE_FORMAT, format_manifest, signature_text
from rempart.transparency import Ed25519Signer, sign_note
from tests.legal.legal_helpers import GOLDEN, OTHER_SIGNER, SIGNER, VKEY, make_package


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("packages")
    return {"dir": make_package(root / "delivery-1").path, "zip": make_package(root / "delivery-1.zip").path}


def problem(path, vkey=VKEY, **kw) -> tuple[str | None, dict]:
    v = verify_package(path, vkey, **kw)
    assert v.ok == (v.failed is None)
    return (None if v.ok else v.details["problem"]), v.details


def copy(src: Path, dest: Path) -> Path:
    if src.is_dir():
        shutil.copytree(src, dest)
    else:
        shutil.copyfile(src, dest)
    return dest


@pytest.mark.parametrize("form", ["dir", "zip"])
def test_a_fresh_package_verifies(packages, form) -> None:
    v = verify_package(packages[form], VKEY)
    assert v.ok, v.reason
    assert v.passed == ["vkey", "container", "signature", "manifest", "files", "contents"]
    assert v.details["order"] == "PAR-2026-0042" and v.details["delivery"] == 1 and v.details["previous"] is None
    assert v.details["files"] == 7 and v.details["signer"].startswith("rempart.example/evidence+")


def test_golden_manifest_signature_and_zip(packages) -> None:
    d = packages["dir"]
    assert (d / "MANIFEST").read_bytes() == (GOLDEN / "package-MANIFEST").read_bytes()
    assert (d / "SIGNATURE").read_bytes() == (GOLDEN / "package-SIGNATURE").read_bytes()
    digest = hashlib.sha256(packages["zip"].read_bytes()).hexdigest()
    assert digest == (GOLDEN / "package-zip.sha256").read_text().strip()
    assert read_manifest(packages["zip"]) == read_manifest(d)


def test_zip_and_directory_hold_the_same_bytes(packages) -> None:
    with zipfile.ZipFile(packages["zip"]) as z:  # any unzip tool reads a package zip
        assert z.testzip() is None
        names = z.namelist()
        for name in names:
            assert z.read(name) == (packages["dir"] / name).read_bytes()
    on_disk = sorted(str(p.relative_to(packages["dir"])) for p in packages["dir"].rglob("*") if p.is_file())
    assert sorted(names) == on_disk


def test_every_flipped_byte_of_a_zip_package_fails(packages, tmp_path) -> None:
    data = packages["zip"].read_bytes()
    target, seen = tmp_path / "flipped.zip", set()
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x01
        target.write_bytes(flipped)
        found, _ = problem(target)
        assert found is not None, f"byte {i} flipped and the package still verified"
        seen.add(found)
    assert {"altered-file", "manifest-mismatch", "bad-signature", "non-canonical-container"} <= seen


def test_every_flipped_byte_of_a_directory_package_fails(packages, tmp_path) -> None:
    pkg = copy(packages["dir"], tmp_path / "pkg")
    for path in sorted(p for p in pkg.rglob("*") if p.is_file()):
        original = path.read_bytes()
        name = str(path.relative_to(pkg))
        for i in range(len(original)):
            flipped = bytearray(original)
            flipped[i] ^= 0x80
            path.write_bytes(flipped)
            found, details = problem(pkg)
            assert found is not None, (name, i)
            if name not in ("MANIFEST", "SIGNATURE"):
                assert details["altered"] == [name]
        path.write_bytes(original)
    assert problem(pkg)[0] is None


@pytest.mark.parametrize("form", ["dir", "zip"])
def test_added_removed_and_altered_files_are_named(packages, tmp_path, form) -> None:
    def edited(change) -> tuple[str | None, dict]:
        work = tmp_path / f"work-{form}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        for name, data in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes(data)
        change(work)
        if form == "dir":
            return problem(work)
        names = sorted((str(p.relative_to(work)) for p in work.rglob("*") if p.is_file()), key=str.encode)
        blobs = {n: (work / n).read_bytes() for n in names}
        target = tmp_path / f"edited-{len(list(tmp_path.iterdir()))}.zip"
        with open(target, "wb") as out:  # a canonical zip of the edited files: only the content changed
            write_zip(out, [Entry(n, len(b), zlib.crc32(b), lambda b=b: [b]) for n, b in blobs.items()])
        return problem(target)

    files = {str(p.relative_to(packages["dir"])): p.read_bytes() for p in packages["dir"].rglob("*") if p.is_file()}
    found, details = edited(lambda w: (w / "media" / "extra.jpg").write_bytes(b"more"))
    assert (found, details["added"]) == ("added-file", ["media/extra.jpg"])
    found, details = edited(lambda w: (w / "media" / "item-2.png").unlink())
    assert (found, details["removed"]) == ("removed-file", ["media/item-2.png"])
    found, details = edited(lambda w: (w / "records" / "subscriber.json").write_bytes(b"{}\n"))
    assert (found, details["altered"]) == ("altered-file", ["records/subscriber.json"])

    def all_three(w: Path) -> None:
        (w / "transparency-receipt").write_bytes(b"forged")
        (w / "media" / "item-1.jpg").rename(w / "media" / "renamed.jpg")
    found, details = edited(all_three)
    assert found == "altered-file"
    assert details == {"problem": "altered-file", "altered": ["transparency-receipt"],
                       "removed": ["media/item-1.jpg"], "added": ["media/renamed.jpg"]}
    found, _ = edited(lambda w: (w / "MANIFEST").unlink())
    assert found == "missing-file"


def test_wrong_key_and_bad_signature(packages, tmp_path) -> None:
    assert problem(packages["zip"], OTHER_SIGNER.verifier().vkey())[0] == "wrong-key"
    elsewhere = Ed25519Signer("someone.else/key", bytes(32)).verifier().vkey()
    assert problem(packages["dir"], elsewhere)[0] == "wrong-key"
    pkg = copy(packages["dir"], tmp_path / "resigned")
    # a valid signature by the right key over another manifest
    other = signature_text("PAR-2026-0042", 1, "0" * 64)
    (pkg / "SIGNATURE").write_bytes(sign_note(other, [SIGNER]))
    assert problem(pkg)[0] == "manifest-mismatch"
    # a signature line that does not verify
    sig = (packages["dir"] / "SIGNATURE").read_bytes()
    (pkg / "SIGNATURE").write_bytes(sig.replace(b"delivery 1", b"delivery 2"))
    assert problem(pkg)[0] == "bad-signature"
    # something else the key signed (say, a checkpoint-like note) is not a package signature
    (pkg / "SIGNATURE").write_bytes(sign_note("rempart.example/evidence\n7\nabc=\n", [SIGNER]))
    assert problem(pkg)[0] == "bad-signature"
    v = verify_package(packages["dir"], "not a vkey")
    assert not v.ok and v.failed == "vkey"


def test_a_signed_but_non_canonical_manifest_fails(packages, tmp_path) -> None:
    pkg = copy(packages["dir"], tmp_path / "noncanonical")
    lines = (pkg / "MANIFEST").read_bytes().split(b"\n")
    files = lines[5:-1]
    for bad in (b"\n".join(lines[:5] + files[::-1]) + b"\n",  # unsorted
                b"\n".join(lines[:5] + files) + b"\n\n",  # trailing empty line
                (pkg / "MANIFEST").read_bytes().replace(b"delivery 1", b"delivery 01")):
        (pkg / "MANIFEST").write_bytes(bad)
        text = signature_text("PAR-2026-0042", 1, manifest_digest(bad))
        (pkg / "SIGNATURE").write_bytes(sign_note(text, [SIGNER]))
        assert problem(pkg)[0] == "non-canonical-manifest"


def test_second_delivery_references_the_first(packages, tmp_path) -> None:
    first, first_digest = read_manifest(packages["zip"])
    second = make_package(tmp_path / "delivery-2.zip", delivery=2, previous=first_digest)
    assert second.delivery == 2
    v = verify_package(second.path, VKEY, previous=first_digest)
    assert v.ok and v.passed[-1] == "previous" and v.details["previous"] == first_digest
    assert problem(second.path, previous="f" * 64)[0] == "manifest-mismatch"
    with pytest.raises(PackageError):
        make_package(tmp_path / "bad-2", delivery=2, previous=None)
    with pytest.raises(PackageError):
        make_package(tmp_path / "bad-1", delivery=1, previous=first_digest)


def test_contents_must_belong_to_the_delivery(packages, tmp_path) -> None:
    pkg = copy(packages["dir"], tmp_path / "contents")
    custody = (pkg / "custody.json").read_bytes().replace(b'"delivery":1', b'"delivery":3')
    (pkg / "custody.json").write_bytes(custody)
    manifest = (pkg / "MANIFEST").read_bytes().decode()
    old = next(line for line in manifest.split("\n") if line.endswith(" custody.json"))
    new = f"file {hashlib.sha256(custody).hexdigest()} {len(custody)} custody.json"
    manifest = manifest.replace(old, new).encode()
    (pkg / "MANIFEST").write_bytes(manifest)
    (pkg / "SIGNATURE").write_bytes(sign_note(signature_text("PAR-2026-0042", 1, manifest_digest(manifest)), [SIGNER]))
    found, _ = problem(pkg)
    assert found == "manifest-mismatch"


def test_building_refuses_bad_requests(tmp_path) -> None:
    make_package(tmp_path / "exists")
    with pytest.raises(PackageError, match="exists"):
        make_package(tmp_path / "exists")
    for name in ("../escape.jpg", "a b.jpg", ".hidden", "x/" * 9 + "deep.jpg"):
        with pytest.raises(PackageError, match="invalid file name"):
            make_package(tmp_path / f"bad-{abs(hash(name))}", media=[MediaFile(name, b"x")])
    with pytest.raises(PackageError, match="two files"):
        make_package(tmp_path / "dup", media=[MediaFile("a.jpg", b"1"), MediaFile("a.jpg", b"2")])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary left behind"


def test_media_are_copied_from_files(tmp_path) -> None:
    src = tmp_path / "upload.bin"
    src.write_bytes(os.urandom(3 << 20))  # larger than one read chunk
    for dest in (tmp_path / "p", tmp_path / "p.zip"):
        info = make_package(dest, media=[MediaFile("video-1.mp4", src)])
        entry = next(f for f in info.files if f.path == "media/video-1.mp4")
        assert entry.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
        assert verify_package(dest, VKEY).ok


# --- hostile containers ---

def _zip_bytes(entries: list[tuple[zipfile.ZipInfo | str, bytes]], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for info, data in entries:
            z.writestr(info, data)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.sh", "/etc/passwd", "media/../../evil", "C:\\evil", "media//x.jpg",
                                  "media/./x.jpg", "media\\x.jpg"])
def test_path_traversal_is_refused(tmp_path, name) -> None:
    target = tmp_path / "traversal.zip"
    blob = b"owned"
    with open(target, "wb") as out:
        write_zip(out, [Entry(name, len(blob), zlib.crc32(blob), lambda: [blob])])
    assert problem(target)[0] == "unsafe-container"


def test_zip_bombs_are_refused_without_inflating(tmp_path) -> None:
    target = tmp_path / "bomb.zip"
    target.write_bytes(_zip_bytes([("media/bomb.bin", b"\0" * (64 << 20))], zipfile.ZIP_DEFLATED))
    assert target.stat().st_size < 1 << 20
    found, _ = problem(target)
    assert found == "unsafe-container"
    assert "zip bombs" in verify_package(target, VKEY).reason


def test_symlinks_and_attributes_are_refused(tmp_path) -> None:
    link = zipfile.ZipInfo("media/link.jpg", (1980, 1, 1, 0, 0, 0))
    link.external_attr = 0o120777 << 16
    target = tmp_path / "link.zip"
    target.write_bytes(_zip_bytes([(link, b"/etc/passwd")]))
    assert problem(target)[0] == "unsafe-container"
    pkg = tmp_path / "dir-with-link"
    pkg.mkdir()
    (pkg / "MANIFEST").write_text("x")
    os.symlink("/etc/passwd", pkg / "order.json")
    assert problem(pkg)[0] == "unsafe-container"


def test_other_spellings_of_a_zip_are_refused(packages, tmp_path) -> None:
    members = {}
    with zipfile.ZipFile(packages["zip"]) as z:
        for name in z.namelist():
            members[name] = z.read(name)
    rebuilt = tmp_path / "python-zipfile.zip"  # same files, Python's own layout (dates, attributes)
    rebuilt.write_bytes(_zip_bytes(list(members.items())))
    assert problem(rebuilt)[0] in ("non-canonical-container", "unsafe-container")
    data = packages["zip"].read_bytes()
    for name, blob in {"trailing": data + b"\0", "comment": data[:-2] + b"\x03\x00abc", "empty": b"",
                       "truncated": data[:-1], "not-a-zip": b"hello" * 10}.items():
        (tmp_path / f"{name}.zip").write_bytes(blob)
        assert problem(tmp_path / f"{name}.zip")[0] in ("non-canonical-container", "unsafe-container"), name
    zip64 = bytearray(data)
    struct.pack_into("<H", zip64, len(zip64) - 12, 0xFFFF)  # entry count of the end record
    (tmp_path / "zip64.zip").write_bytes(zip64)
    assert problem(tmp_path / "zip64.zip")[0] == "unsafe-container"


def test_directory_oddities(packages, tmp_path) -> None:
    pkg = copy(packages["dir"], tmp_path / "odd")
    (pkg / "media" / "empty-dir").mkdir()
    found, details = problem(pkg)
    assert (found, details["added"]) == ("added-file", ["media/empty-dir/"])
    assert problem(tmp_path / "does-not-exist")[0] == "unsafe-container"


def test_manifest_round_trip_and_strictness(packages) -> None:
    raw = (packages["dir"] / "MANIFEST").read_bytes()
    assert format_manifest(parse_manifest(raw)) == raw
    for bad in (raw.replace(b"\n", b"\r\n"), raw[:-1], raw.replace(b"rempart-package/v1", b"rempart-package/v2"),
                raw.replace(b"previous none", b"previous " + b"a" * 64), b"", raw + b"file x\n",
                raw.replace(b"T11:00:00Z", b"T11:00:00.5Z")):
        with pytest.raises(PackageProblem):
            parse_manifest(bad)
    assert SIGNATURE_FORMAT in (packages["dir"] / "SIGNATURE").read_text()
