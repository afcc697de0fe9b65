"""``rempart witness``: run a transparency log witness (C2SP tlog-witness) for other logs."""

from __future__ import annotations

from pathlib import Path

import typer

from rempart.cli.common import err, errors_to_exit

app = typer.Typer(help="Run a witness that cosigns other logs' checkpoints (C2SP tlog-witness).",
                  no_args_is_help=True)


@app.command("init")
def init(
    directory: Path = typer.Argument(..., help="The witness's directory (created; must hold no key)."),
    name: str = typer.Option(..., "--name", help="The witness's key name, e.g. witness.example.org/w1."),
) -> None:
    """Create a witness key and state directory, and print its verifier key (hand it to verifiers)."""
    from rempart.transparency.witness import init_witness

    with errors_to_exit():
        signer = init_witness(directory, name)
    typer.echo(signer.verifier().vkey())
    err.print(f"witness key in {directory / 'witness.skey'} (secret, mode 0600)")


@app.command("serve")
def serve(
    directory: Path = typer.Argument(..., help="The witness's directory (from `rempart witness init`)."),
    log: list[str] = typer.Option(..., "--log", help="A log's verifier key, or a file holding one "
                                  "(repeatable): the logs this witness cosigns."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8090, help="Port to listen on."),
) -> None:
    """Serve add-checkpoint (POST /add-checkpoint) and each log's latest cosigned checkpoint
    (GET /<sha256 of the origin>/checkpoint)."""
    import uvicorn

    from rempart.transparency.witness import Witness, witness_app

    with errors_to_exit():
        witness = Witness.open(directory, log)
    err.print(f"witness {witness.signer.name} on http://{host}:{port}, following "
              + ", ".join(sorted(witness.logs)))
    typer.echo(witness.vkey())
    uvicorn.run(witness_app(witness), host=host, port=port, log_level="warning")
