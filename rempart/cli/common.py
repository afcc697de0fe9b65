"""What every command shares: the runtime, JSON output, errors to exit codes, progress bars."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rempart.errors import ImportFormatError, RempartError

if TYPE_CHECKING:
    from rempart.signals import Fingerprint, Limits

err = Console(stderr=True, highlight=False)
WORKERS = 2  # decoding releases the GIL; two threads keep both cores of a small machine busy


def emit(obj: dict) -> None:
    """One JSON object per line on stdout (the scripting contract)."""
    sys.stdout.write(json.dumps(obj, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> typer.Exit:
    # escaped: a message quoting the caller's input ("[/x]") is text, not rich markup
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Turn rempart's own errors into a clear message and exit status 1 (no traceback)."""
    try:
        yield
    except ImportFormatError as exc:
        err.print(f"[red]error:[/red] {len(exc.errors)} error(s) in the hash list; nothing imported")
        for line, msg in exc.errors[:50]:
            err.print(f"  line {line}: {escape(msg)}")
        if len(exc.errors) > 50:
            err.print(f"  ... and {len(exc.errors) - 50} more")
        raise typer.Exit(1) from None
    except RempartError as exc:
        raise fail(str(exc)) from None


def settings():
    """The settings (environment and config file); ``InvalidConfig`` names the bad key."""
    from rempart.config import Settings  # imported late: keeps `--help` fast

    return Settings.from_env()


def runtime(*, migrate: bool = False):
    """The runtime over the settings. Only ``rempart migrate``, ``serve`` and ``demo`` migrate;
    every other command refuses a schema that is not current (``SchemaNotCurrent``)."""
    from rempart.runtime import Runtime

    return Runtime(settings(), migrate=migrate)


def progress(total: int | None, label: str) -> Progress:
    """A progress bar on stderr (invisible when stderr is not a terminal)."""
    p = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                 console=err, transient=True, disable=not err.is_terminal)
    p.add_task(label, total=total)
    return p


@dataclass(frozen=True)
class Unlisted:
    """A folder (or entry) that could not be listed: reported like an unreadable file."""

    path: Path
    reason: str


def expand_paths(paths: Iterable[Path]) -> list[Path | Unlisted]:
    """Files as given, and every regular file under each folder whatever its name (the media
    type is read from the bytes), sorted by name at each level.

    Symbolic links are followed and each folder is walked once, so a link back up the tree is
    not a loop; a broken link is listed, to be reported as unreadable like any named file.
    Sockets, pipes and devices are left out.
    """
    out: list[Path | Unlisted] = []
    for p in paths:
        if p.is_dir():
            _walk(p, out, set())
        else:
            out.append(p)
    return out


def _walk(folder: Path, out: list[Path | Unlisted], seen: set[tuple[int, int]]) -> None:
    try:
        st = folder.stat()
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        out.append(Unlisted(folder, f"cannot read folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir():  # follows links
            _walk(path, out, seen)
        elif entry.is_file() or (entry.is_symlink() and not path.exists()):
            out.append(path)


def fingerprint_paths(files: list[Path | Unlisted], label: str, limits: Limits, *,
                      exact: bool = False) -> Iterator[tuple[Path, Fingerprint | RempartError]]:
    """Yield (path, its Fingerprint or the error that made it unreadable) for ``files`` (from
    ``expand_paths``) in order, fingerprinting in a small thread pool behind a progress bar.
    ``exact``: full-resolution decoding, PDQ bit-exact with the reference, and what a bank keeps
    of the local features (hashes printed or banked); otherwise the default fast path (scans)."""
    from rempart.signals import fingerprint_file  # imported late: keeps `--help` fast

    def one(path: Path | Unlisted) -> Fingerprint | RempartError:
        if isinstance(path, Unlisted):
            return RempartError(path.reason)
        try:
            if exact:
                return fingerprint_file(path, limits=limits, jpeg_draft=None, bank=True)
            return fingerprint_file(path, limits=limits)
        except RempartError as exc:
            return exc
        except OSError as exc:
            return RempartError(f"cannot read: {exc.strerror or exc}")

    with progress(len(files), label) as bar, ThreadPoolExecutor(WORKERS) as pool:
        for path, result in zip(files, pool.map(one, files)):
            bar.advance(bar.task_ids[0])
            yield (path.path if isinstance(path, Unlisted) else path), result


def unreadable(path: Path, error: RempartError, json_out: bool) -> None:
    """Report a file that could not be fingerprinted: ``{"file", "error"}`` or a red line."""
    if json_out:
        emit({"file": str(path), "error": str(error)})
    else:
        err.print(f"[red]{escape(str(path))}[/red]: {escape(str(error))}")
