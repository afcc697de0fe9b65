"""``rempart verify``: check a published log from its files alone (directory or URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from rempart.cli.common import emit, err, fail
from rempart.errors import InvalidInput

app = typer.Typer(help="Verify published transparency reports, checkpoints and receipts.",
                  no_args_is_help=True)

LOG_HELP = "The published log: a directory or an http(s) URL."
VKEY_HELP = "The log's verifier key (name+hash+key), or a file holding it."


def _show(verdict, json_out: bool) -> None:
    if json_out:
        emit(verdict.to_json())
    else:
        for name in verdict.passed:
            typer.echo(f"  ok    {name}")
        if verdict.ok:
            typer.echo(f"VERIFIED  {verdict.subject}")
        else:
            typer.echo(f"  FAIL  {verdict.failed}: {verdict.reason}")
            what = f"{verdict.subject}: {verdict.failed}: {verdict.reason}"
            err.print(f"[red]NOT VERIFIED[/red]  {escape(what)}")
    if not verdict.ok:
        raise typer.Exit(1)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {what} {path}: {exc.strerror or exc}") from None


WITNESS_HELP = "A witness's verifier key (repeatable): require its cosignature/v1."
NEEDED_HELP = "How many of the --witness keys must have cosigned (default: all of them)."

# the options every check of a published log takes
Log = Annotated[str, typer.Option("--log", help=LOG_HELP)]
Vkey = Annotated[str, typer.Option("--vkey", help=VKEY_HELP)]
Witnesses = Annotated[list[str] | None, typer.Option("--witness", help=WITNESS_HELP)]
WitnessesNeeded = Annotated[int | None, typer.Option("--witnesses-needed", help=NEEDED_HELP)]
JsonOut = Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")]


def _policy(witnesses: list[str] | None, needed: int | None):
    """The k-of-n witness policy from the options, or None when no witness is given."""
    from rempart.transparency.cosignature import CosignatureVerifier, WitnessPolicy

    if not witnesses:
        if needed:
            raise fail("--witnesses-needed needs at least one --witness")
        return None
    try:
        keys = tuple(CosignatureVerifier.from_vkey(w) for w in witnesses)
        return WitnessPolicy(keys, len(keys) if needed is None else needed)
    except InvalidInput as exc:
        raise fail(f"witness policy: {exc}") from None


@app.command("report")
def report(
    day: Annotated[str, typer.Argument(help="UTC day YYYY-MM-DD.")],
    log: Log,
    vkey: Vkey,
    witness: Witnesses = None,
    witnesses_needed: WitnessesNeeded = None,
    json_out: JsonOut = False,
) -> None:
    """Signature, inclusion of the report leaf, recount of the day, chain to the previous report."""
    from rempart.transparency.verify import verify_published_report

    policy = _policy(witness, witnesses_needed)
    _show(verify_published_report(log, day, vkey, policy), json_out)


@app.command("consistency")
def consistency(
    old: Annotated[Path, typer.Argument(help="The older signed checkpoint (file).")],
    new: Annotated[Path, typer.Argument(help="The newer signed checkpoint (file).")],
    log: Log,
    vkey: Vkey,
    witness: Witnesses = None,
    witnesses_needed: WitnessesNeeded = None,
    json_out: JsonOut = False,
) -> None:
    """Check that the NEW checkpoint's tree extends the OLD one's (no fork, no rewrite)."""
    from rempart.transparency.verify import verify_published_consistency

    policy = _policy(witness, witnesses_needed)
    _show(verify_published_consistency(_read(old, "checkpoint"), _read(new, "checkpoint"), log,
                                       vkey, policy), json_out)


@app.command("receipt")
def receipt(
    file: Path = typer.Argument(..., help="A receipt from `rempart transparency receipt`."),
    content: Path = typer.Option(None, "--content", help="The content file the decision should be about."),
    vkey: str = typer.Option(None, "--vkey", help=VKEY_HELP + " Without it, the receipt's own key is used."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Check a decision's inclusion in the log and, with the content, that it is about that content."""
    from rempart.transparency.verify import verify_receipt

    data = _read(file, "receipt")
    body = _read(content, "content") if content else None
    if vkey is None and not json_out:
        err.print("[yellow]note:[/yellow] no --vkey: trusting the key inside the receipt")
    _show(verify_receipt(data, body, vkey), json_out)


@app.command("opening")
def opening(
    index: Annotated[int, typer.Argument(help="The leaf index whose revealed opening to check.")],
    log: Log,
    vkey: Vkey,
    content: Path = typer.Option(None, "--content", help="The content it should open to (an "
                                 "order's canonical JSON, order.json in its package)."),
    json_out: JsonOut = False,
) -> None:
    """Check a revealed opening (openings.json) against the leaf committed long before."""
    from rempart.transparency.verify import verify_published_opening

    body = _read(content, "content") if content else None
    _show(verify_published_opening(log, index, vkey, body), json_out)


@app.command("package")
def package(
    path: Path = typer.Argument(..., help="A disclosure package: a .zip or a directory."),
    vkey: str = typer.Option(None, "--vkey", help="The platform's evidence verifier key, or a file "
                             "holding it. Without it, this installation's own key (rempart legal vkey)."),
    previous: str = typer.Option(None, "--previous", help="The manifest digest of the delivery before."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Check a disclosure package offline: signature, manifest, every file's SHA-256, nothing
    added or removed; names what is wrong."""
    from rempart.cli.common import settings
    from rempart.legal import verify_package
    from rempart.transparency.keys import key_path
    from rempart.transparency.note import Ed25519Signer

    if vkey is None:
        local = key_path(settings().home / "legal")
        if not local.is_file():
            raise fail("no --vkey given and no local evidence key: pass the platform's verifier key")
        vkey = Ed25519Signer.from_skey(local.read_text().strip()).verifier().vkey()
    elif Path(vkey).is_file():
        vkey = _read(Path(vkey), "verifier key").decode().strip()
    verdict = verify_package(path, vkey, previous=previous)
    _show(verdict, json_out)
