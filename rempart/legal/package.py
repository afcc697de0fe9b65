"""Disclosure packages: write one (a directory or a .zip), verify one offline.

A package answers one order, in numbered deliveries. It holds, besides MANIFEST and SIGNATURE
(formats in ``rempart.legal.manifest``)::

    order.json              the order, canonical JSON (``rempart.legal.orders.order_bytes``)
    custody.json            the chain of custody, canonical JSON (below)
    transparency-receipt    the transparency-log receipt of the order's leaf (opaque bytes)
    records/<name>.json     the records of the authorised categories, canonical JSON
    media/<name>            the original media files, byte for byte

custody.json::

    {"delivery":1,"events":[{"action":"collected","actor":"alice","at":"2026-08-20T10:00:00Z",
      "note":"","subject":"media/item-1.jpg"}, ...],"format":"rempart-custody/v1","order":"PAR-2026-0042"}

The directory form is those files under one directory; the .zip form is the canonical zip of
``rempart.legal._zip`` (stored entries, fixed layout), so that any altered, added or removed byte
of the zip, not only of its files, fails verification.

``verify_package(path, vkey)`` trusts nothing in the package: it checks the container, the
signature against the given key, the manifest against its signed digest and its canonical form,
every file against the manifest, and that order.json and custody.json belong to this delivery;
the ``Verdict`` names what is wrong (``details["problem"]``: ``unsafe-container``,
``non-canonical-container``, ``missing-file``, ``bad-signature``, ``wrong-key``,
``manifest-mismatch``, ``non-canonical-manifest``, ``altered-file``, ``removed-file``,
``added-file``) and lists the files concerned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rempart.errors import InvalidInput, RempartError, shown
from rempart.legal._common import canonical_json, format_time, printable, utc
from rempart.legal._zip import CHUNK, Entry, member_chunks, read_members, write_zip
from rempart.legal.errors import PackageError, PackageProblem
from rempart.legal.manifest import (
    CUSTODY_FILE, MANIFEST, MAX_FILES, MAX_MANIFEST_BYTES, ORDER_FILE, RECEIPT_FILE, SIGNATURE,
    FileEntry, Manifest, format_manifest, manifest_digest, parse_manifest, parse_signature_text,
    signature_text, valid_path,
)
from rempart.legal.orders import Order, order_bytes
from rempart.legal.vocab import CustodyAction
from rempart.transparency import Ed25519Verifier, InvalidSignature, Signer, UnverifiedNote, Verdict, open_note, sign_note
from rempart.transparency.note import MAX_NOTE_BYTES

CUSTODY_FORMAT = "rempart-custody/v1"
MAX_RECEIPT_BYTES = 1 << 20
MAX_JSON_BYTES = 64 << 20


@dataclass(frozen=True)
class CustodyEvent:
    at: dt.datetime
    actor: str
    action: CustodyAction
    subject: str  # a path in the package, or "package" / "order"
    note: str = ""


@dataclass(frozen=True)
class MediaFile:
    name: str  # path under media/, e.g. "item-12.jpg"
    source: Path | bytes


@dataclass(frozen=True)
class PackageInfo:
    path: Path
    manifest_digest: str
    delivery: int
    files: tuple[FileEntry, ...]


def _source_chunks(source: Path | bytes) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield source
        return
    with open(source, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _entry(path: str, source: Path | bytes) -> tuple[Entry, str]:
    """The zip entry of a source (size and CRC-32) and its SHA-256, in one read."""
    h, crc, n = hashlib.sha256(), 0, 0
    for chunk in _source_chunks(source):
        h.update(chunk)
        crc, n = zlib.crc32(chunk, crc), n + len(chunk)
    return Entry(path, n, crc, lambda: _source_chunks(source)), h.hexdigest()


def custody_json(order: str, delivery: int, events: Sequence[CustodyEvent]) -> bytes:
    return canonical_json({"format": CUSTODY_FORMAT, "order": order, "delivery": delivery, "events": [
        {"at": format_time(e.at), "actor": e.actor, "action": e.action.value, "subject": e.subject,
         "note": e.note} for e in events]})


def _check_custody(events: Sequence[CustodyEvent]) -> None:
    if not events:
        raise PackageError("a package needs its chain of custody (at least one event)")
    times = [utc(e.at) for e in events]
    if times != sorted(times):
        raise PackageError("custody events must be in time order")
    for e in events:
        if not e.actor or not printable(e.actor) or not printable(e.subject) or not isinstance(e.action, CustodyAction):
            raise PackageError(f"invalid custody event (actor {shown(e.actor)}, action "
                               f"{shown(str(e.action))}, subject {shown(e.subject)})")


def build_package(dest: Path, *, order: Order, delivery: int, previous: str | None,
                  records: Mapping[str, object], media: Sequence[MediaFile],
                  custody: Sequence[CustodyEvent], receipt: bytes, signer: Signer,
                  created_at: dt.datetime) -> PackageInfo:
    """Write delivery ``delivery`` of the answer to ``order`` at ``dest`` (a .zip if its name
    ends in .zip, else a directory); ``dest`` must not exist. ``records`` maps a name to a JSON
    value written as ``records/<name>.json``; ``previous`` is the manifest digest of the
    delivery before (None for the first). Written to a temporary path, then renamed."""
    dest = Path(dest)
    if dest.exists() or dest.is_symlink():
        raise PackageError(f"{dest} already exists")
    if not 0 < len(receipt) <= MAX_RECEIPT_BYTES:
        raise PackageError(f"the transparency receipt must be 1 to {MAX_RECEIPT_BYTES} bytes")
    _check_custody(custody)
    sources: dict[str, Path | bytes] = {ORDER_FILE: order_bytes(order), RECEIPT_FILE: receipt,
                                        CUSTODY_FILE: custody_json(order.reference, delivery, custody)}
    for name, value in records.items():
        sources[f"records/{name}.json"] = canonical_json(value)
    for m in media:
        path = f"media/{m.name}"
        if path in sources:
            raise PackageError(f"two files named {path}")
        sources[path] = m.source
    bad = [p for p in sources if not valid_path(p)]
    if bad or len(sources) > MAX_FILES:
        raise PackageError(f"invalid file name(s): {', '.join(bad[:5])}" if bad else f"more than {MAX_FILES} files")
    entries, files = [], []
    for path in sorted(sources, key=str.encode):
        entry, sha = _entry(path, sources[path])
        entries.append(entry)
        files.append(FileEntry(path, sha, entry.size))
    try:
        manifest = format_manifest(Manifest(order.reference, delivery, previous,
                                            utc(created_at).replace(microsecond=0), tuple(files)))
    except PackageProblem as exc:  # the caller's values (reference, delivery, previous) are wrong
        raise PackageError(f"cannot write this manifest: {exc}") from None
    digest = manifest_digest(manifest)
    signature = sign_note(signature_text(order.reference, delivery, digest), [signer])
    entries += [Entry(MANIFEST, len(manifest), zlib.crc32(manifest), lambda: [manifest]),
                Entry(SIGNATURE, len(signature), zlib.crc32(signature), lambda: [signature])]
    entries.sort(key=lambda e: e.name.encode())
    _write_atomically(dest, entries)
    return PackageInfo(dest, digest, delivery, tuple(files))


def _write_atomically(dest: Path, entries: list[Entry]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        if dest.suffix == ".zip":
            target = tmp / "package.zip"
            with open(target, "wb") as out:
                write_zip(out, entries)
        else:
            target = tmp / "package"
            for e in entries:
                path = target / e.name
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "wb") as out:
                    crc = 0
                    for chunk in e.chunks():
                        crc = zlib.crc32(chunk, crc)
                        out.write(chunk)
                if crc != e.crc:
                    raise PackageError(f"{e.name} changed while it was being packaged")
        os.rename(target, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _safe_name(name: str) -> bool:
    """A zip entry name that cannot escape a directory when extracted (which ``valid_path``
    names are expected is decided later: others are reported as added files)."""
    parts = name.split("/")
    return (0 < len(name.encode()) <= 255 and printable(name) and "\\" not in name and ":" not in name
            and all(p not in ("", ".", "..") for p in parts))


class _Container:
    """A package's files, from a directory or a canonical zip; reads record CRC mismatches."""

    def __init__(self, path: Path) -> None:
        self.path, self.crc_mismatch = path, []
        self._zip = None
        if path.is_dir() and not path.is_symlink():
            self.sizes = self._walk(path)
        elif path.is_file() and not path.is_symlink():
            self._zip = open(path, "rb")
            try:
                size = os.fstat(self._zip.fileno()).st_size
                self.members = {m.name: m for m in read_members(self._zip, size, _safe_name)}
            except BaseException:
                self._zip.close()
                raise
            self.sizes = {n: m.size for n, m in self.members.items()}
        else:
            raise PackageProblem("unsafe-container", f"{path} is neither a directory nor a regular file")

    @staticmethod
    def _walk(root: Path) -> dict[str, int]:
        sizes, stack = {}, [(root, "")]
        while stack:
            folder, prefix = stack.pop()
            with os.scandir(folder) as it:
                children = list(it)
            if not children and prefix:
                sizes[prefix.rstrip("/") + "/"] = 0  # an empty directory: something was added
            for c in children:
                st = c.stat(follow_symlinks=False)
                name = prefix + c.name
                if stat.S_ISDIR(st.st_mode):
                    if name.count("/") >= 8:
                        raise PackageProblem("unsafe-container", f"directories nested too deep at {name}")
                    stack.append((Path(c.path), name + "/"))
                elif stat.S_ISREG(st.st_mode):
                    sizes[name] = st.st_size
                else:
                    raise PackageProblem("unsafe-container", f"{name} is a link or a special file")
                if len(sizes) > MAX_FILES + 2:
                    raise PackageProblem("unsafe-container", f"more than {MAX_FILES} files")
        return sizes

    def chunks(self, name: str) -> Iterator[bytes]:
        if self._zip is None:
            yield from _source_chunks(self.path / name)
            return
        m, crc = self.members[name], 0
        for chunk in member_chunks(self._zip, m):
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if crc != m.crc:
            self.crc_mismatch.append(name)

    def read(self, name: str, limit: int) -> bytes:
        if name not in self.sizes:
            raise PackageProblem("missing-file", f"the package has no {name}", {"missing": [name]})
        if self.sizes[name] > limit:
            raise PackageProblem("unsafe-container", f"{name} is larger than {limit} bytes")
        return b"".join(self.chunks(name))

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def verify_package(path: str | Path, vkey: str, *, previous: str | None = None) -> Verdict:
    """Check a package offline against the platform's verifier key; ``previous`` is the
    manifest digest of the delivery before, when the caller holds it."""
    v, step = Verdict(f"package {path}"), [""]

    def check(name: str) -> None:
        step[0] = name
        v.check(name)

    container = None
    try:
        check("vkey")
        verifier = Ed25519Verifier.from_vkey(vkey)
        check("container")
        container = _Container(Path(path))
        check("signature")
        order, delivery, digest = _check_signature(container, verifier)
        check("manifest")
        raw = container.read(MANIFEST, MAX_MANIFEST_BYTES)
        if manifest_digest(raw) != digest:
            raise PackageProblem("manifest-mismatch", "MANIFEST is not the manifest that was signed")
        manifest = parse_manifest(raw)
        if (manifest.order, manifest.delivery) != (order, delivery):
            raise PackageProblem("manifest-mismatch", "the signature and the manifest name different deliveries")
        check("files")
        _check_files(container, manifest)
        check("contents")
        _check_contents(container, manifest)
        if previous is not None:
            check("previous")
            if manifest.previous != previous:
                raise PackageProblem("manifest-mismatch", f"delivery {manifest.delivery} follows "
                                     f"{manifest.previous or 'nothing'}, not {previous}")
        v.check("")
        v.details = {"order": manifest.order, "delivery": manifest.delivery, "previous": manifest.previous,
                     "manifest": digest, "created": format_time(manifest.created_at),
                     "files": len(manifest.files), "signer": f"{verifier.name}+{verifier.key_id:08x}"}
    except PackageProblem as exc:
        v.ok, v.failed, v.reason = False, step[0], str(exc)
        v.details = {"problem": exc.problem, **exc.details}
    except (RempartError, OSError) as exc:
        v.ok, v.failed, v.reason = False, step[0], str(exc)
        v.details = {"problem": "invalid-input" if step[0] == "vkey" else "unsafe-container"}
    finally:
        if container is not None:
            container.close()
    return v


def _check_signature(container: _Container, verifier: Ed25519Verifier) -> tuple[str, int, str]:
    """(order, delivery, manifest digest) that the given key signed, or the problem."""
    try:
        note = open_note(container.read(SIGNATURE, MAX_NOTE_BYTES), [verifier])
    except UnverifiedNote:
        raise PackageProblem("wrong-key", f"not signed by {verifier.name}+{verifier.key_id:08x}") from None
    except InvalidSignature as exc:
        raise PackageProblem("bad-signature", str(exc)) from None
    except PackageProblem:
        raise
    except InvalidInput as exc:
        raise PackageProblem("bad-signature", f"SIGNATURE is not a signed note: {exc}") from None
    return parse_signature_text(note.text)


def _check_files(container: _Container, manifest: Manifest) -> None:
    listed = {f.path: f for f in manifest.files}
    present = set(container.sizes) - {MANIFEST, SIGNATURE}
    removed, added, altered = sorted(set(listed) - present), sorted(present - set(listed)), []
    for path in sorted(set(listed) & present):
        f, h, n = listed[path], hashlib.sha256(), 0
        if container.sizes[path] != f.size:
            altered.append(path)
            continue
        for chunk in container.chunks(path):
            h.update(chunk)
            n += len(chunk)
        if (h.hexdigest(), n) != (f.sha256, f.size):
            altered.append(path)
    problems = {k: v for k, v in (("altered", altered), ("removed", removed), ("added", added)) if v}
    if problems:
        first = next(iter(problems))
        message = "; ".join(f"{k}: {', '.join(v[:20])}" + (f" (+{len(v) - 20})" if len(v) > 20 else "")
                            for k, v in problems.items())
        raise PackageProblem(f"{first}-file", message, problems)
    if container.crc_mismatch:
        raise PackageProblem("non-canonical-container", f"CRC-32 does not match the bytes of "
                             f"{', '.join(container.crc_mismatch[:5])}")


def _check_contents(container: _Container, manifest: Manifest) -> None:
    def load(name: str) -> dict:
        try:
            value = json.loads(container.read(name, MAX_JSON_BYTES))
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise PackageProblem("manifest-mismatch", f"{name} is not a JSON object")
        return value

    if load(ORDER_FILE).get("reference") != manifest.order:
        raise PackageProblem("manifest-mismatch", f"{ORDER_FILE} is not the order {manifest.order}")
    custody = load(CUSTODY_FILE)
    if (custody.get("format"), custody.get("order"), custody.get("delivery")) != (
            CUSTODY_FORMAT, manifest.order, manifest.delivery) or not isinstance(custody.get("events"), list):
        raise PackageProblem("manifest-mismatch", f"{CUSTODY_FILE} is not the custody of this delivery")


def read_manifest(path: str | Path) -> tuple[Manifest, str]:
    """The manifest of a package and its digest, unverified (to chain the next delivery)."""
    container = _Container(Path(path))
    try:
        raw = container.read(MANIFEST, MAX_MANIFEST_BYTES)
        return parse_manifest(raw), manifest_digest(raw)
    finally:
        container.close()
