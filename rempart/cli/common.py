"""What every command shares: the runtime, JSON output, errors to exit codes, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rempart.errors import ImportFormatError, RempartError

err = Console(stderr=True, highlight=False)


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


def runtime():
    from rempart.runtime import Runtime  # imported late: keeps `--help` fast

    return Runtime.from_env()


def progress(total: int | None, label: str) -> Progress:
    """A progress bar on stderr (invisible when stderr is not a terminal)."""
    p = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                 console=err, transient=True, disable=not err.is_terminal)
    p.add_task(label, total=total)
    return p


MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".mp4",
                  ".webm", ".mov", ".m4v", ".mkv"}


def expand_paths(paths: Iterable[Path], *, all_files: bool = False) -> list[Path]:
    """Files as given, and folders walked recursively (media suffixes only, unless all_files)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()
                              and (all_files or f.suffix.lower() in MEDIA_SUFFIXES)))
        else:
            out.append(p)
    return out
