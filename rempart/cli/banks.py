"""``rempart bank``: create, list, add media, import, export and curate hash banks."""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

import typer

from rempart.cli.common import (
    emit, err, errors_to_exit, expand_paths, fail, fingerprint_paths, progress, runtime, unreadable,
)
from rempart.errors import RempartError, shown

app = typer.Typer(help="Hash banks: named hash lists with provenance.", no_args_is_help=True)

FORMAT_HELP = "te (ThreatExchange/HMA text), csv, or ncmec (NCMEC hash-sharing XML)."


def _report(outcome, json_out: bool, extra: dict | None = None) -> None:
    r = outcome.result
    summary = {"added": r.n_added, "already_present": r.already_present, "notes": r.notes,
               "retro_matches": [m.to_json() for m in outcome.retro], **(extra or {})}
    if json_out:
        emit(summary)
        return
    typer.echo(f"{summary['added']} entries added, {r.already_present} already present")
    for note in r.notes:
        typer.echo(f"  note: {note}")
    if outcome.retro:
        typer.echo(f"retro-scan: {len(outcome.retro)} past item(s) match the new entries:")
        for m in outcome.retro:
            typer.echo(f"  item {m.item_id} (account {m.account}, space {m.space}) "
                       f"{m.bank}#{m.entry_id} {m.signal} d={m.distance}")


@app.command("create")
def create(
    name: str,
    threshold: int = typer.Option(None, help="PDQ distance threshold, inclusive (default: "
                                               "PDQ's customary threshold, as every bank)."),
    action: str = typer.Option("block", help="block or review on match."),
    safelist: bool = typer.Option(False, "--safelist", help="A safelist of known benign collisions."),
    source: str = typer.Option("local", help="Provenance: ncmec, iwf, local, ngo:<org>..."),
    legal_basis: str = typer.Option("", help="Legal basis note."),
    feature_action: str = typer.Option(
        "review", "--feature-action",
        help="What a match by local features alone (stage 2, signal orb) does: review "
             "(default: a person looks first) or block."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Create a bank."""
    from rempart.banks import service

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            chosen = {} if threshold is None else {"threshold": threshold}
            b = service.create_bank(s, name, source=source, legal_basis=legal_basis,
                                    action=action, safelist=safelist,
                                    feature_action=feature_action, **chosen)
    if json_out:
        emit({"name": b.name, "threshold": b.threshold, "action": b.action,
              "safelist": b.is_safelist, "source": b.source,
              "feature_action": b.feature_action})
    else:
        typer.echo(f"bank {b.name} created (threshold {b.threshold}, action {b.action}"
                   f"{', safelist' if b.is_safelist else ''})")


@app.command("list")
def list_(json_out: bool = typer.Option(False, "--json")) -> None:
    """List banks with their active entry counts."""
    from rempart.banks import service

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            rows = service.list_banks(s)
            for b, n in rows:
                row = {"name": b.name, "source": b.source, "threshold": b.threshold,
                       "action": b.action, "safelist": b.is_safelist, "enabled": b.enabled,
                       "active_entries": n}
                if json_out:
                    emit(row)
                else:
                    flags = " safelist" if b.is_safelist else ""
                    flags += "" if b.enabled else " disabled"
                    typer.echo(f"{b.name:24} {n:8} entries  {b.action:6} t={b.threshold} "
                               f"source={b.source}{flags}")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Bank name."),
    files: list[Path] = typer.Argument(..., help="Confirmed media files (folders are walked)."),
    external_id: str = typer.Option(None, help="External reference stored with the entries."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Bank confirmed items: hash the media straight into the bank (then retro-scan)."""
    from rempart.banks.entries import ConfirmedItem

    paths = expand_paths(files)
    if not paths:
        raise fail("no files given")
    with errors_to_exit():
        rt = runtime()
        items: list[ConfirmedItem] = []
        failed = 0
        for path, fp in fingerprint_paths(paths, "hashing", rt.limits, exact=True):
            if isinstance(fp, RempartError):
                failed += 1
                unreadable(path, fp, json_out=False)
                continue
            items.append(ConfirmedItem.from_fingerprint(fp, external_id, {"file": path.name},
                                                        label=str(path)))
        if failed:
            raise fail(f"{failed} file(s) could not be read; nothing was banked")
        outcome = rt.bank_items(name, items, added_by="cli")
    _report(outcome, json_out)


@app.command("import")
def import_(
    name: str = typer.Argument(..., help="Bank name."),
    file: Path = typer.Argument(..., help="Hash list file ('-' for standard input)."),
    format: str = typer.Option(None, "--format", help=FORMAT_HELP + " Detected when omitted."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Import a hash list: all or nothing, with line-numbered errors. The file is read in
    batches (memory does not grow with it), behind a progress bar."""
    from rempart.banks.formats import StreamedImport, detect_format

    with errors_to_exit():
        stdin = str(file) == "-"
        try:
            source = sys.stdin.buffer if stdin else open(file, "rb", buffering=1 << 20)  # noqa: SIM115
            total = None if stdin else file.stat().st_size
            if hasattr(source, "peek"):
                head = source.peek(64 * 1024)[: 64 * 1024]
            else:  # a stream that cannot look ahead: read the head, then hand it back first
                head = source.read(64 * 1024)
                source = io.BufferedReader(_Prefixed(head, source), 1 << 20)
        except OSError as exc:
            raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
        fmt = format or detect_format(head, None if stdin else file.name)
        rt = runtime()
        stats = StreamedImport()
        with source, progress(total, "importing (bytes read)") as bar:
            task = bar.task_ids[0]
            retro = bar.add_task("retro-scan (ledger signals)", total=None, visible=False)
            reader = _Progress(source, stats, lambda: bar.update(task, completed=stats.bytes_read))

            def retro_tick(n: int) -> None:
                bar.update(task, completed=stats.bytes_read)
                bar.update(retro, advance=n, visible=True)

            outcome = rt.import_list(name, reader, fmt, added_by="cli", stats=stats,
                                     progress=retro_tick)
            bar.update(task, completed=stats.bytes_read)
            if outcome.retro_job is not None:  # a big import: its retro-scan runs now, as a job
                bar.update(retro, visible=True)
                rt.run_retro_jobs(outcome.retro_job, lambda done, total: bar.update(
                    retro, completed=done, total=total))
    extra = {"format": fmt}
    if outcome.retro_job is not None:
        from rempart.banks import retro_jobs

        with rt.db.session() as s:
            job = retro_jobs.job_json(*retro_jobs.get_job(s, outcome.retro_job))
        extra["retro_job"] = job
        if not json_out:
            typer.echo(f"retro-scan job {job['id']}: {job['state']}, {job['matches']} past "
                       f"item(s) match (list them: GET /v1/matches?found_by=retro)")
    _report(outcome, json_out, extra)


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``source``: a stream read ahead for format detection."""

    def __init__(self, head: bytes, source) -> None:
        self.head, self.source = memoryview(head), source

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.head:
            n = min(len(buf), len(self.head))
            buf[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.source.read(len(buf))
        buf[: len(data)] = data
        return len(data)


class _Progress:
    """A binary reader that calls ``tick`` every few megabytes read (for the progress bar)."""

    def __init__(self, source, stats, tick) -> None:
        self.source, self.stats, self.tick = source, stats, tick
        self._next = 0

    def _seen(self, data: bytes) -> bytes:
        if self.stats.bytes_read >= self._next:
            self._next = self.stats.bytes_read + (4 << 20)
            self.tick()
        return data

    def read(self, n: int = -1) -> bytes:
        return self._seen(self.source.read(n))

    def readline(self, n: int = -1) -> bytes:
        return self._seen(self.source.readline(n))


@app.command("export")
def export(
    name: str,
    format: str = typer.Option("te", "--format", help=FORMAT_HELP),
    output: Path = typer.Option(None, "--output", "-o", help="Write to a file, not stdout."),
) -> None:
    """Export a bank's active entries. Hash lists are confidential: handle the output as such."""
    from rempart.banks import service

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            pieces = service.export_stream(s, service.get_bank(s, name), format)
            if output:
                size = 0
                tmp = output.with_name(output.name + ".part")
                try:
                    with open(tmp, "wb") as f:
                        for piece in pieces:
                            f.write(piece)
                            size += len(piece)
                    tmp.replace(output)
                finally:
                    tmp.unlink(missing_ok=True)
                err.print(f"{output}: {size} bytes")
            else:
                for piece in pieces:
                    sys.stdout.buffer.write(piece)


@app.command("snapshot")
def snapshot(json_out: bool = typer.Option(False, "--json")) -> None:
    """Write a snapshot of the matcher now, so the next process (serve, scan, a worker) starts
    from it and applies only the later bank changes. `rempart serve` writes them by itself."""
    with errors_to_exit():
        rt = runtime()
        written = rt.write_snapshot()
    out = {"path": str(written.path), "seq": written.seq, "entries": written.entries,
           "bytes": written.bytes, "seconds": round(written.seconds, 3),
           "loaded_from": rt.replica_source}
    if json_out:
        emit(out)
    else:
        typer.echo(f"snapshot {written.path} written: {written.entries} entries up to change "
                   f"{written.seq}, {written.bytes} bytes in {written.seconds:.1f} s "
                   f"(matcher loaded from {rt.replica_source})")


def _parse_until(until: str | None) -> dt.datetime | None:
    if until is None:
        return None
    try:
        at = dt.datetime.fromisoformat(until)
    except ValueError:
        raise fail(f"--until: not an ISO date or date-time: {shown(until)}") from None
    if at.tzinfo is not None:
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return at


@app.command("disable")
def disable(
    entry_id: int,
    until: str = typer.Option(None, help="ISO date/time (UTC) when it matches again."),
    reason: str = typer.Option("", help="Why (e.g. a false positive)."),
) -> None:
    """Stop an entry matching at once, indefinitely or until a date. History is kept."""
    from rempart.banks import service

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            service.disable_entry(s, entry_id, until=_parse_until(until), reason=reason)
    typer.echo(f"entry {entry_id} disabled" + (f" until {until}" if until else ""))


@app.command("enable")
def enable(entry_id: int, json_out: bool = typer.Option(False, "--json")) -> None:
    """Let a disabled entry match again (then retro-scan what was uploaded meanwhile)."""
    with errors_to_exit():
        outcome = runtime().enable_entry(entry_id)
    if not json_out:
        typer.echo(f"entry {entry_id} enabled")
    _report(outcome, json_out)


@app.command("remove")
def remove(entry_id: int, reason: str = typer.Option("", help="Why.")) -> None:
    """Take an entry out of its bank for good (its history stays)."""
    from rempart.banks import service

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            service.remove_entry(s, entry_id, reason)
    typer.echo(f"entry {entry_id} removed")
