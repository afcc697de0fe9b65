"""Top-level commands: hash, scan, serve, demo; sub-apps for banks and tokens."""

from __future__ import annotations

from pathlib import Path

import typer

from rempart.cli import banks as banks_cli
from rempart.cli import legal as legal_cli
from rempart.cli import exchange as exchange_cli
from rempart.cli import moderation as moderation_cli
from rempart.cli import orgs as orgs_cli
from rempart.cli import tokens as tokens_cli
from rempart.cli import transparency as transparency_cli
from rempart.cli import verify as verify_cli
from rempart.cli import witness as witness_cli
from rempart.cli.common import (
    emit, err, errors_to_exit, expand_paths, fingerprint_paths, runtime, settings, unreadable,
)
from rempart.errors import RempartError

app = typer.Typer(
    help="rempart: ban known abuse material by fingerprint at upload, and prove it.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
app.add_typer(banks_cli.app, name="bank")
app.add_typer(exchange_cli.app, name="exchange")
app.add_typer(tokens_cli.app, name="token")
app.add_typer(moderation_cli.user_app, name="user")
app.add_typer(moderation_cli.case_app, name="case")
app.add_typer(orgs_cli.app, name="org")
app.add_typer(transparency_cli.app, name="transparency")
app.add_typer(verify_cli.app, name="verify")
app.add_typer(witness_cli.app, name="witness")
app.add_typer(legal_cli.agency_app, name="agency")
app.add_typer(legal_cli.officer_app, name="officer")
app.add_typer(legal_cli.app, name="legal")


@app.command("hash")
def hash_files(
    files: list[Path] = typer.Argument(..., help="Image or video files (folders are walked)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Print the fingerprints of files: SHA-256, MD5, SHA-1 and PDQ (per-second PDQ for videos)."""
    failed = 0
    with errors_to_exit():
        limits = settings().limits
    for path, fp in fingerprint_paths(expand_paths(files), "hashing", limits, exact=True):
        if isinstance(fp, RempartError):
            failed += 1
            unreadable(path, fp, json_out)
            continue
        if json_out:
            emit(fp.to_json(str(path)))
        else:
            p = fp.pdq()
            pdq = f"pdq {p.pdq} q{p.quality}" if p else "no pdq"
            frames = f" ({len(fp.frames)} frames)" if fp.kind == "video" else ""
            typer.echo(f"{path}  sha256 {fp.sha256}  {pdq}{frames}")
    if failed:
        raise typer.Exit(1)


@app.command("scan")
def scan(
    paths: list[Path] = typer.Argument(..., help="Files or folders (walked recursively)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per line."),
    account: str = typer.Option(None, help="Platform account the files came from."),
    space: str = typer.Option(None, help="Platform space (group/channel) they were shared in."),
) -> None:
    """Scan files against the banks, record them in the ledger, and print each verdict."""
    from rempart.scanning.service import ScanContext

    files = expand_paths(paths)
    if not files:
        raise typer.Exit(0)
    counts = {"block": 0, "review": 0, "allow": 0, "error": 0}
    with errors_to_exit():
        rt = runtime()
        context = ScanContext(account=account, space=space)
        for path, fp in fingerprint_paths(files, "scanning", rt.limits):
            if isinstance(fp, RempartError):
                counts["error"] += 1
                unreadable(path, fp, json_out)
                continue
            outcome = rt.scan_fingerprint(fp, context, size_bytes=path.stat().st_size)
            counts[outcome.verdict] += 1
            matches = [{"bank": m.bank, "entry": m.entry_id, "signal": m.signal,
                        "distance": m.distance,
                        **({"exchange": outcome.provenance[m.entry_id]}
                           if m.entry_id in outcome.provenance else {})}
                       for m in outcome.result.matches]
            if json_out:
                emit({"file": str(path), "verdict": outcome.verdict, "matches": matches})
            else:
                shown = ", ".join(f"{m['bank']}#{m['entry']} {m['signal']} d={m['distance']}"
                                  for m in matches)
                typer.echo(f"{outcome.verdict:6}  {path}{'  ' + shown if shown else ''}")
    err.print(f"{counts['block']} blocked, {counts['review']} to review, {counts['allow']} allowed"
              + (f", {counts['error']} unreadable" if counts["error"] else ""))
    if counts["error"]:
        raise typer.Exit(1)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8080, help="Port to listen on."),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs), the review console (/console/), the transparency log
    (/log/, C2SP tlog-tiles) and its daily reports (/transparency/) over REMPART_HOME; ask the
    log's witnesses for missing cosignatures in the background."""
    import uvicorn

    from rempart.api.app import create_app
    from rempart.observe import logs

    with errors_to_exit():
        rt = runtime(migrate=True)
        entries = len(rt.matcher)  # ready before the first request: from a snapshot if one fits
    logs.configure()
    err.print(f"matcher ready: {entries} entries from {rt.replica_source} "
              f"in {rt.replica_seconds:.1f} s")
    err.print(f"rempart serving {rt.settings.database_url.split('://')[0]} data on "
              f"http://{host}:{port}: review console at /console/, API docs at /docs, "
              "transparency log at /log/, reports at /transparency/")
    uvicorn.run(create_app(rt), host=host, port=port, log_level="info", log_config=None)


@app.command("worker")
def worker(
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=64,
                                    help="Events scanned at once (threads)."),
    metrics_host: str = typer.Option("127.0.0.1", help="Address of the worker's /metrics."),
    metrics_port: int = typer.Option(9464, help="Port of the worker's /metrics (0: any free "
                                                 "port, printed at start)."),
) -> None:
    """Run a scan worker (scale-out mode, REMPART_NATS_URL): take upload events from the
    stream, scan them, record their effects once, acknowledge them. Stops on SIGTERM/SIGINT
    after the events in hand."""
    import signal

    from rempart.observe import logs, metrics, probes
    from rempart.workers.worker import Worker

    with errors_to_exit():
        cfg = settings()
        if not cfg.nats_url:
            raise typer.Exit(_no_nats())
        rt = runtime(migrate=False)
        probes.register(rt)
        port = metrics.serve_metrics(metrics_host, metrics_port)
    logs.configure()
    w = Worker(rt, rt.bus, concurrency=concurrency)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: w.stop())
    err.print(f"rempart worker on {cfg.nats_url} (concurrency {concurrency}), metrics at "
              f"http://{metrics_host}:{port}/metrics")
    try:
        w.run()
    finally:
        rt.close()


def _no_nats() -> int:
    err.print("[red]error:[/red] rempart worker runs in scale-out mode: set REMPART_NATS_URL "
              "(e.g. nats://127.0.0.1:4222)")
    return 1


@app.command("demo")
def demo(
    uploads: int = typer.Option(400, help="How many simulated uploads."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run the benign demo into REMPART_HOME: banks, a simulated upload stream, a summary."""
    from rempart.demo import run_demo

    with errors_to_exit():
        summary = run_demo(runtime(migrate=True), uploads=uploads, log=lambda m: err.print(m))
    if json_out:
        emit(summary.to_json())
    else:
        typer.echo(summary.render())


@app.command("migrate")
def migrate() -> None:
    """Create or migrate the database schema to this version (other commands refuse an old one)."""
    with errors_to_exit():
        rt = runtime(migrate=True)
    err.print(f"database at the latest schema ({rt.settings.database_url.split('://')[0]})")
