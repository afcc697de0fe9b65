"""``rempart org``: organisations that send notices (hotlines, NGOs, trusted flaggers), their
keys, analysts, webhook endpoints and suspension."""

from __future__ import annotations

import typer

from rempart.cli.common import emit, errors_to_exit, runtime
from rempart.cli.moderation import show_new_person

app = typer.Typer(help="Organisations that send notices (hotline).", no_args_is_help=True)
analyst_app = typer.Typer(help="Analysts of an organisation (the portal).", no_args_is_help=True)
app.add_typer(analyst_app, name="analyst")


@app.command("add")
def org_add(
    name: str = typer.Argument(..., help="The organisation's name."),
    kind: str = typer.Option(..., "--kind", help="hotline, ngo or trusted-flagger."),
    country: str = typer.Option(None, "--country", help="ISO 3166 two-letter country code."),
    json_out: bool = typer.Option(False, "--json", help='Print {"org", "key"}.'),
) -> None:
    """Create an organisation and print its API key (scope reporter) once."""
    from rempart.hotline.orgs import create_org

    with errors_to_exit():
        with runtime().db.session() as s:
            new = create_org(s, name, kind, country)
            org = {"id": new.org.id, "name": new.org.name, "kind": new.org.kind,
                   "country": new.org.country}
    if json_out:
        emit({"org": org, "key": new.key})
        return
    typer.echo(f"organisation {org['name']} ({org['kind']}) created; its API key, shown once:")
    typer.echo(f"  {new.key}")


@app.command("list")
def org_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """List organisations with their notice statistics."""
    from rempart.hotline.orgs import list_orgs, stats_of

    with errors_to_exit():
        with runtime().db.session() as s:
            for org in list_orgs(s):
                stats = stats_of(s, org.id).to_json()
                row = {"id": org.id, "name": org.name, "kind": org.kind, "country": org.country,
                       "suspended": org.suspended_at is not None, **stats}
                if json_out:
                    emit(row)
                else:
                    share = stats["share_actioned"]
                    typer.echo(f"{org.id:4}  {org.name:30} {org.kind:16} {org.country or '--'}  "
                               f"{stats['notices']} notices, "
                               f"{'-' if share is None else f'{share:.0%}'} actioned"
                               + ("  (suspended)" if row["suspended"] else "")
                               + ("  (many unfounded)" if stats["flagged_unfounded"] else ""))


@app.command("key")
def org_key(name: str = typer.Argument(..., help="Organisation name or id."),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """Issue another API key for an organisation (shown once)."""
    from rempart.hotline.orgs import get_org, new_key

    with errors_to_exit():
        with runtime().db.session() as s:
            org = get_org(s, name)
            key, org_name = new_key(s, org), org.name
    if json_out:
        emit({"org": org_name, "key": key})
    else:
        typer.echo(key)


@app.command("revoke-keys")
def org_revoke_keys(name: str = typer.Argument(..., help="Organisation name or id.")) -> None:
    """Revoke every API key of an organisation (issue a new one with `org key`)."""
    from rempart.hotline.orgs import get_org, revoke_keys

    with errors_to_exit():
        with runtime().db.session() as s:
            n = revoke_keys(s, get_org(s, name))
    typer.echo(f"{n} key(s) revoked")


@app.command("suspend")
def org_suspend(name: str = typer.Argument(..., help="Organisation name or id."),
                reason: str = typer.Option(..., "--reason", help="Why (DSA Art. 22(6)).")) -> None:
    """Suspend an organisation's notices (its keys and analysts are refused new ones)."""
    from rempart.authz import shell_operator_as_lead
    from rempart.hotline.orgs import get_org, suspend

    with errors_to_exit():
        with runtime().db.session() as s:
            changed = suspend(s, shell_operator_as_lead(), get_org(s, name), reason)
    typer.echo("suspended" if changed else "already suspended")


@app.command("reinstate")
def org_reinstate(name: str = typer.Argument(..., help="Organisation name or id.")) -> None:
    """End an organisation's suspension."""
    from rempart.authz import shell_operator_as_lead
    from rempart.hotline.orgs import get_org, reinstate

    with errors_to_exit():
        with runtime().db.session() as s:
            changed = reinstate(s, shell_operator_as_lead(), get_org(s, name))
    typer.echo("reinstated" if changed else "not suspended")


@app.command("webhook")
def org_webhook(name: str = typer.Argument(..., help="Organisation name or id."),
                url: str = typer.Argument(..., help="Where outcomes are POSTed (http(s)://...)."),
                json_out: bool = typer.Option(False, "--json")) -> None:
    """Set an organisation's webhook endpoint; print its signing secret once."""
    from rempart.authz import Actor, Role
    from rempart.hotline.orgs import get_org, set_endpoint

    with errors_to_exit():
        with runtime().db.session() as s:
            org = get_org(s, name)
            # the operator at the shell, as the platform's admin of webhook endpoints
            ep, secret = set_endpoint(s, Actor(None, "cli", Role.ADMIN), org, url)
            out = {"org": org.name, "endpoint": ep.name, "url": ep.url, "secret": secret}
    if json_out:
        emit(out)
    else:
        typer.echo(f"{out['endpoint']} -> {out['url']}; signing secret (shown once): {secret}")


@analyst_app.command("add")
def analyst_add(
    org: str = typer.Argument(..., help="Organisation name or id."),
    username: str = typer.Argument(..., help="Username (lowercase letters, digits, _ . -)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Create an analyst of an organisation; print the one-time password and TOTP once."""
    from rempart.hotline.orgs import add_analyst, get_org

    with errors_to_exit():
        with runtime().db.session() as s:
            new = add_analyst(s, get_org(s, org), username)
            out = {"id": new.user.id, "username": new.user.username, "role": new.user.role,
                   "org": org, "one_time_password": new.one_time_password,
                   "totp_secret": new.totp_secret, "otpauth_uri": new.totp_uri}
    show_new_person(out, json_out, f"analyst {out['username']} of {org} created (portal: /portal/)")
