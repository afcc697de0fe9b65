"""``rempart exchange``: hash-sharing sources (NCMEC, ThreatExchange, StopNCII, another rempart)
kept in sync with a bank, and the partners this rempart's feed is shared with."""

from __future__ import annotations

from pathlib import Path

import typer

from rempart.cli.common import emit, err, errors_to_exit, fail, progress, runtime

app = typer.Typer(help="Hash-sharing exchanges: pull from NCMEC, ThreatExchange, StopNCII or "
                       "another rempart into a bank; share banks with partner rempart deployments.",
                  no_args_is_help=True)
partner_app = typer.Typer(help="Partners that may read this rempart's feed (GET /v1/exchange/feed).",
                          no_args_is_help=True)
app.add_typer(partner_app, name="partner")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A name for the source (lowercase, e.g. ncmec-industry)."),
    kind: str = typer.Option(..., "--kind", help="ncmec, threatexchange, stopncii or rempart."),
    bank: str = typer.Option(..., "--bank", help="The bank kept in sync (created when missing)."),
    url: str = typer.Option(None, "--url", help="Base URL (default: the service's official one; "
                            "for rempart, the partner's base URL as for `rempart serve`)."),
    credential_file: Path = typer.Option(None, "--credential-file", help="A file holding the "
                                         "credential (ncmec user:password, threatexchange access "
                                         "token, stopncii subscription-key:function-key)."),
    credential_env: str = typer.Option(None, "--credential-env", help="An environment variable "
                                       "holding the credential instead (read at each sync)."),
    key_file: Path = typer.Option(None, "--key-file", help="For --kind rempart: the file holding "
                                  "the key the partner gave you."),
    store_credential: bool = typer.Option(False, "--store-credential", help="Keep the credential "
                                          "in the database, encrypted with the key in "
                                          "REMPART_HOME/keys, instead of referencing it."),
    member_id: list[str] = typer.Option([], "--member-id", help="ncmec: keep entries of this "
                                        "member id only (repeatable)."),
    category: list[str] = typer.Option([], "--category", help="ncmec: keep entries of this "
                                       "classification only (repeatable)."),
    privacy_group: str = typer.Option(None, "--privacy-group", help="threatexchange: the privacy "
                                      "group id to follow."),
    page_size: int = typer.Option(None, "--page-size", help="Records asked for per page."),
    interval: float = typer.Option(900.0, "--interval", help="Seconds between syncs in `rempart serve`."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Configure a source to sync a bank from (the credential is never printed)."""
    from rempart.config import secret_from_environment
    from rempart.exchanges import credentials, service

    if key_file is not None and credential_file is not None:
        raise fail("give --key-file or --credential-file, not both")
    options: dict = {}
    if member_id:
        options["member_ids"] = list(member_id)
    if category:
        options["categories"] = list(category)
    if privacy_group:
        options["privacy_group"] = privacy_group
    if page_size:
        options["page_size"] = page_size
    with errors_to_exit():
        rt = runtime()
        ref = credentials.reference(file=key_file or credential_file, env=credential_env)
        stored = None
        if store_credential:
            if not ref:
                raise fail("--store-credential needs --credential-file, --key-file or --credential-env")
            stored = credentials.resolve(rt.settings.home, ref, None, secret_from_environment)
            ref = ""
        with rt.db.session() as s:
            ex = service.add_exchange(s, rt.settings.home, name, kind=kind, bank=bank, url=url,
                                      credential_ref=ref, store=stored, options=options,
                                      interval_seconds=interval)
            row = {"name": ex.name, "kind": ex.kind, "bank": bank, "url": ex.url,
                   "credential": credentials.describe(ex.credential_ref), "options": ex.options}
    if json_out:
        emit(row)
    else:
        typer.echo(f"exchange {row['name']} ({row['kind']}) -> bank {bank}, credential: {row['credential']}")


@app.command("sync")
def sync(
    name: str = typer.Argument(None, help="The source to sync (default: every enabled one)."),
    max_pages: int = typer.Option(None, "--max-pages", help="Stop after this many pages (the "
                                  "checkpoint keeps the place)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per source."),
) -> None:
    """Fetch what changed upstream since the checkpoint and apply it; deliver queued feedback."""
    from rempart.exchanges import service

    failed = False
    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            names = [name] if name else [x.name for x in service.list_exchanges(s) if x.enabled]
            if name:
                service.get_exchange(s, name)
        for n in names:
            with progress(None, f"{n}: pages") as bar:
                result = rt.sync_exchange(n, service.SyncOptions(
                    max_pages=max_pages, on_page=lambda r: bar.advance(bar.task_ids[0])))
            failed |= result.status != "ok"
            if json_out:
                emit(result.to_json())
            else:
                typer.echo(f"{n}: {result.status}, {result.pages} page(s), {result.added} added, "
                           f"{result.updated} updated, {result.deleted} withdrawn, {result.skipped} "
                           f"skipped, {len(result.retries)} retried"
                           + (f" -- {result.error}" if result.error else ""))
        sent = rt.deliver_exchange_feedback()
        if sent.sent or sent.failed:
            err.print(f"feedback: {sent.sent} sent, {sent.failed} failed")
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_(json_out: bool = typer.Option(False, "--json", help="One JSON object per source.")) -> None:
    """Each source's last sync, checkpoint, entry counts and errors."""
    from rempart.exchanges import service

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            rows = service.list_exchanges(s)
            recent = {r.name: service.recent_errors(s, r.name, 3) for r in rows if r.errors}
    for r in rows:
        if json_out:
            emit({**r.to_json(), "recent_errors": recent.get(r.name, [])})
            continue
        run = r.last_run or {}
        typer.echo(f"{r.name:20} {r.kind:15} bank={r.bank} live={r.live_records} "
                   f"withdrawn={r.withdrawn_records} errors={r.errors} last_sync={r.last_sync_at or 'never'} "
                   f"status={run.get('status', '-')} checkpoint={r.checkpoint}")
        if r.last_error:
            typer.echo(f"  last error: {r.last_error}")
        for e in recent.get(r.name, []):
            typer.echo(f"  skipped {e['upstream_id'] or '?'}: {e['reason']}")


@partner_app.command("add")
def partner_add(
    name: str = typer.Argument(..., help="The partner's name."),
    bank: list[str] = typer.Option(..., "--bank", help="A bank the partner may read (repeatable)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Share banks with a partner rempart; prints its key once (hand it over securely)."""
    from rempart.exchanges import feed

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            partner, key = feed.add_partner(s, rt.settings.home, name, list(bank))
            row = {"name": partner.name, "banks": list(partner.banks), "key": key}
    if json_out:
        emit(row)
    else:
        typer.echo(key)
        err.print(f"partner {name} may read {', '.join(row['banks'])}; this key is shown once")


@partner_app.command("list")
def partner_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """Partners and the banks each may read (never their keys)."""
    from rempart.exchanges import feed

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            rows = [{"name": p.name, "banks": list(p.banks), "revoked": p.revoked_at is not None,
                     "last_seen_at": p.last_seen_at.isoformat() if p.last_seen_at else None}
                    for p in feed.list_partners(s)]
    for row in rows:
        if json_out:
            emit(row)
        else:
            typer.echo(f"{row['name']:20} banks={','.join(row['banks'])}"
                       + ("  (revoked)" if row["revoked"] else ""))


@partner_app.command("revoke")
def partner_revoke(name: str) -> None:
    """Revoke a partner's key; its next request is refused."""
    from rempart.exchanges import feed

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            feed.revoke_partner(s, name)
    typer.echo(f"partner {name} revoked")
