"""``rempart transparency``: the log's key, checkpoints, daily reports, receipts, publication."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import typer
from rich.markup import escape

from rempart.cli.common import emit, err, errors_to_exit, fail, runtime
from rempart.errors import shown

app = typer.Typer(help="The verifiable transparency log: keys, days, receipts, publication.",
                  no_args_is_help=True)


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"not a day (YYYY-MM-DD): {shown(text)}") from None


@app.command("vkey")
def vkey() -> None:
    """Print the log's verifier key (the key is created on first use)."""
    with errors_to_exit():
        typer.echo(runtime().transparency.vkey())


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign (if the log grew) and print the log's current checkpoint."""
    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            signed = rt.transparency.sign_checkpoint(s)
    typer.echo(signed.decode(), nl=False)


@app.command("close-day")
def close_day(
    day: str = typer.Argument(None, help="UTC day YYYY-MM-DD (default: yesterday)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Close a day: append its report leaf (and any earlier open day's), then sign a checkpoint.

    Refuses a day already closed and a day after today. Closing today ends it early: decisions
    made later today are counted in tomorrow's report.
    """
    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            closed = rt.transparency.close_day(s, _day(day))
            signed = rt.transparency.sign_checkpoint(s)
    for c in closed:
        if json_out:
            emit({"day": c.day, "leaf_index": c.leaf_index, "decisions": c.decisions})
        else:
            typer.echo(f"{c.day} closed: report leaf {c.leaf_index}, {c.decisions} decision(s)")
    if not json_out:
        err.print(f"checkpoint signed:\n{signed.decode()}")


@app.command("publish")
def publish(
    directory: Path = typer.Argument(..., help="Directory to write (serve it statically)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Write the tiled log, checkpoints, reports (JSON, HTML, statements of reasons) and the vkey.

    With witnesses configured, their missing cosignatures are asked for first, and `checkpoint`
    is the newest one carrying the quorum of cosignatures."""
    from rempart.transparency.db.publish import publish as do_publish

    from rempart.transparency.db.witnesses import collect

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:  # a short transaction: the append lock is held only to sign
            rt.transparency.sign_checkpoint(s)
        for attempt in collect(rt.db, rt.transparency, rt.settings.witness_timeout):
            if not attempt.ok:
                err.print(f"[yellow]witness {escape(attempt.witness)}:[/yellow] {escape(attempt.error or '')}")
        with rt.db.session() as s:
            out = do_publish(s, rt.transparency, directory)
    summary = {"directory": str(out.directory), "size": out.size, "tiles_written": out.tiles,
               "reports_written": out.reports}
    if json_out:
        emit(summary)
    else:
        typer.echo(f"published {out.size} leaves to {out.directory} ({out.tiles} new tiles, "
                   f"{len(out.reports)} new report(s))")


@app.command("receipt")
def receipt(
    index: int = typer.Argument(..., help="Leaf index of a decision."),
    no_opening: bool = typer.Option(False, "--no-opening", help="Leave out the private opening."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to a file (mode 0600)."),
) -> None:
    """Print a receipt: a C2SP tlog-proof for the leaf, and (PRIVATE) the opening of its commitment."""
    from rempart.transparency.db.receipts import make_receipt

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            doc = make_receipt(s, rt.transparency, index, with_opening=not no_opening)
    text = json.dumps(doc, indent=1) + "\n"
    if output:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        err.print(f"{output}: receipt for leaf {index}" + ("" if no_opening else " (holds a PRIVATE opening)"))
    else:
        typer.echo(text, nl=False)


@app.command("prove-consistency")
def prove_consistency(old: int, new: int) -> None:
    """Print the consistency proof from tree size OLD to NEW: base64 hashes, one per line."""
    import base64

    from rempart.transparency.db import log_store

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            proof = log_store.prove_consistency(s, old, new)
    for h in proof:
        typer.echo(base64.b64encode(h).decode())


witness_app = typer.Typer(help="The log's witnesses: who cosigns its checkpoints, and the quorum.",
                          no_args_is_help=True)
app.add_typer(witness_app, name="witness")
QUORUM_HELP = "How many of the witnesses must cosign a checkpoint (k of n; default all)."


def _show_witness(w, json_out: bool) -> None:
    if json_out:
        emit(w.to_json())
    else:
        typer.echo(f"{w.name}  {w.url}  {w.vkey}")


def _configure(change, json_out: bool, done: str) -> None:
    """Apply ``change(session)`` (it returns the witness it changed); show it and the quorum."""
    from rempart.transparency.db import witnesses

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            w = change(s)
            k, n = witnesses.quorum(s), len(witnesses.witnesses(s))
    _show_witness(w, json_out)
    err.print(f"{escape(w.name)} {done}; quorum: {k} of {n} witness(es)")


@witness_app.command("add")
def witness_add(
    url: str = typer.Argument(..., help="The witness's URL (its add-checkpoint prefix)."),
    vkey: str = typer.Argument(..., help="The witness's verifier key (cosignature/v1, type 0x04)."),
    quorum: int = typer.Option(None, "--quorum", help=QUORUM_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Submit the log's checkpoints to a witness from now on."""
    from rempart.transparency.db import witnesses

    _configure(lambda s: witnesses.add_witness(s, url, vkey, quorum), json_out, "added")


@witness_app.command("remove")
def witness_remove(
    which: str = typer.Argument(..., help="The witness's name, verifier key or URL."),
    quorum: int = typer.Option(None, "--quorum", help=QUORUM_HELP),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Stop submitting checkpoints to a witness (its past cosignatures no longer count)."""
    from rempart.transparency.db import witnesses

    _configure(lambda s: witnesses.remove_witness(s, which, quorum), json_out, "removed")


@witness_app.command("list")
def witness_list(
    quorum: int = typer.Option(None, "--quorum", help=QUORUM_HELP + " Sets it."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """List the witnesses and the quorum (with --quorum K, set the quorum first)."""
    from rempart.transparency.db import witnesses

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            if quorum is not None:
                witnesses.set_quorum(s, quorum)
            listed, k = witnesses.witnesses(s), witnesses.quorum(s)
    if json_out:
        emit({"quorum": k, "witnesses": [w.to_json() for w in listed]})
        return
    for w in listed:
        _show_witness(w, False)
    err.print(f"quorum: {k} of {len(listed)} witness(es)")


@witness_app.command("collect")
def witness_collect(json_out: bool = typer.Option(False, "--json")) -> None:
    """Sign the checkpoint if the log grew and ask every witness that has not cosigned it.
    Exits 1 when the checkpoint does not carry the quorum afterwards."""
    from rempart.transparency.db import witnesses

    with errors_to_exit():
        rt = runtime()
        attempts = witnesses.collect(rt.db, rt.transparency, rt.settings.witness_timeout)
        with rt.db.session() as s:
            state = witnesses.status(s)
    for a in attempts:
        if json_out:
            emit(a.to_json())
        else:
            typer.echo(f"{'ok  ' if a.ok else 'FAIL'}  {a.witness}  size {a.size}"
                       + ("" if a.ok else f": {a.error}"))
    final = state["latest_cosignatures"] >= state["quorum"]
    err.print(f"checkpoint {state['latest_size']}: {state['latest_cosignatures']} cosignature(s), "
              f"quorum {state['quorum']} of {state['witnesses_active']}")
    if not final:
        raise typer.Exit(1)


@witness_app.command("status")
def witness_status(json_out: bool = typer.Option(False, "--json")) -> None:
    """Each witness's last answer, the latest checkpoint's cosignatures, and which days are final."""
    from rempart.transparency.db import witnesses

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            state = witnesses.status(s)
    if json_out:
        emit(state)
        return
    typer.echo(f"quorum {state['quorum']} of {state['witnesses_active']}; checkpoint "
               f"{state['latest_size']} has {state['latest_cosignatures']} cosignature(s)")
    for w in state["witnesses"]:
        how = "cosigned" if w["cosigned_latest"] else f"missing ({w['last_error'] or 'not asked yet'})"
        typer.echo(f"  {w['name']}  {w['url']}  size {w['size']}  {how}")
    for d in state["days"]:
        typer.echo(f"  {d['day']}  {'final' if d['final'] else 'not final'}")
