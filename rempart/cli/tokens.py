"""``rempart token``: issue, list and revoke API tokens."""

from __future__ import annotations

import typer

from rempart.cli.common import emit, errors_to_exit, runtime

app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Who or what the token is for."),
    scope: list[str] = typer.Option(..., "--scope", help="platform, curator or admin (repeatable)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Issue a token and print it once."""
    from rempart.api.tokens import issue_token, parse_scopes

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            row, secret = issue_token(s, name, parse_scopes(scope))
    if json_out:
        emit({"id": row.id, "name": row.name, "scopes": row.scopes.split(), "token": secret})
    else:
        typer.echo(secret)


@app.command("list")
def list_(json_out: bool = typer.Option(False, "--json")) -> None:
    """List tokens (never their secrets)."""
    from rempart.api.tokens import list_tokens

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            for t in list_tokens(s):
                row = {"id": t.id, "name": t.name, "scopes": t.scopes.split(), "prefix": t.prefix,
                       "revoked": t.revoked_at is not None}
                if json_out:
                    emit(row)
                else:
                    typer.echo(f"{t.id:4}  {t.prefix}…  {t.name}  [{t.scopes}]"
                               + ("  (revoked)" if row["revoked"] else ""))


@app.command("revoke")
def revoke(token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    from rempart.api.tokens import revoke_token

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            revoke_token(s, token_id)
    typer.echo(f"token {token_id} revoked")
