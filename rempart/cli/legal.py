"""``rempart agency``, ``rempart officer`` and ``rempart legal``: the law-enforcement desk from
the operator's shell (authorities, officers, orders, disclosure packages)."""

from __future__ import annotations

from pathlib import Path

import typer

from rempart.cli.common import emit, errors_to_exit, fail, runtime
from rempart.cli.moderation import show_new_person

agency_app = typer.Typer(help="Law-enforcement and judicial authorities.", no_args_is_help=True)
officer_app = typer.Typer(help="Officers of an agency (the officers' portal and API).", no_args_is_help=True)
app = typer.Typer(help="The legal desk: orders, their clocks and disclosure packages.", no_args_is_help=True)


@agency_app.command("add")
def agency_add(
    name: str = typer.Argument(..., help="The authority's name."),
    country: str = typer.Option(..., "--country", help="ISO 3166 two-letter country code."),
    kind: str = typer.Option(..., "--kind", help="police, prosecutor or court."),
    email: str = typer.Option(None, "--email", help="Verified contact email (for callbacks)."),
    phone: str = typer.Option(None, "--phone", help="Verified contact phone, E.164 (for callbacks)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Register an authority with the contact you verified (the desk calls it back)."""
    import getpass

    from rempart.legal.db.agencies import add_agency

    with errors_to_exit():
        with runtime().db.session() as s:
            a = add_agency(s, name, country, kind, email=email, phone=phone,
                           verified_by=f"operator:{getpass.getuser()}")
            out = {"id": a.id, "name": a.name, "country": a.country, "kind": a.kind,
                   "email": a.contact_email, "phone": a.contact_phone}
    if json_out:
        emit(out)
    else:
        typer.echo(f"agency {out['name']} ({out['kind']}, {out['country']}) registered, id {out['id']}")


@agency_app.command("list")
def agency_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """List registered authorities and their verified contacts."""
    from rempart.legal.db.agencies import list_agencies

    with errors_to_exit():
        with runtime().db.session() as s:
            for a in list_agencies(s):
                row = {"id": a.id, "name": a.name, "country": a.country, "kind": a.kind,
                       "email": a.contact_email, "phone": a.contact_phone, "verified_by": a.verified_by}
                if json_out:
                    emit(row)
                else:
                    typer.echo(f"{a.id:4}  {a.name:32} {a.kind:10} {a.country}  "
                               f"{a.contact_phone or ''} {a.contact_email or ''}")


@officer_app.command("add")
def officer_add(
    username: str = typer.Argument(..., help="Username (lowercase letters, digits, _ . -)."),
    agency: str = typer.Option(..., "--agency", help="Agency name or id."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Create an officer: one-time password, TOTP and API key, shown once."""
    from rempart.legal.db.agencies import add_officer, get_agency

    with errors_to_exit():
        with runtime().db.session() as s:
            new = add_officer(s, username, get_agency(s, agency))
            out = {"id": new.person.user.id, "username": new.person.user.username, "role": "officer",
                   "agency": new.agency.name, "one_time_password": new.person.one_time_password,
                   "totp_secret": new.person.totp_secret, "otpauth_uri": new.person.totp_uri,
                   "api_key": new.key}
    show_new_person(out, json_out, f"officer {out['username']} of {out['agency']} created (portal: /officers/)")
    if not json_out:
        typer.echo(f"  API key            {out['api_key']}  (Authorization: Bearer, for /v1/legal/orders)")


def order_row(s, row, now=None) -> dict:
    from rempart.legal.db import answer, orders
    from rempart.legal.db.models import Agency

    state = orders.refresh(s, row, now)
    return {"id": row.id, "reference": row.reference, "type": row.kind, "clock": row.clock_kind,
            "agency": s.get(Agency, row.agency_id).name, "status": state.status.value,
            "sla": state.sla.value, "received_at": row.received_at.isoformat() + "Z",
            "deadline": state.deadline.isoformat() + "Z" if state.deadline else None,
            "confidential": row.confidential,
            "packages": [{"delivery": d.number, "manifest": d.manifest_digest, "path": d.path,
                          "previous": d.previous_digest} for d in answer.deliveries_of(s, row.id)]}


@app.command("list")
def legal_list(json_out: bool = typer.Option(False, "--json", help="One JSON object per line.")) -> None:
    """List orders: type, agency, status, deadline and packages."""
    from rempart.authz import shell_operator_as_legal
    from rempart.legal.db import orders

    with errors_to_exit():
        with runtime().db.session() as s:
            for row in orders.list_orders(s, shell_operator_as_legal()):
                out = order_row(s, row)
                if json_out:
                    emit(out)
                else:
                    typer.echo(f"{out['id']:4}  {out['reference']:20} {out['type']:17} {out['agency']:24} "
                               f"{out['status']:12} {out['sla']:8} due {out['deadline'] or '-'}  "
                               f"{len(out['packages'])} package(s)")


@app.command("package")
def legal_package(
    order_id: int = typer.Argument(..., help="The order's id (`rempart legal list`)."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write it: a .zip, or a directory."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Write the next signed delivery answering an order (recorded on the desk)."""
    from rempart.authz import shell_operator_as_legal
    from rempart.legal.db import orders

    actor = shell_operator_as_legal()
    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            row = orders.get_order(s, actor, order_id)
            d = rt.legal.produce(s, actor, row, output.resolve())
            out = {"order": row.id, "reference": row.reference, "delivery": d.number, "path": d.path,
                   "manifest": d.manifest_digest, "previous": d.previous_digest, "files": d.files,
                   "vkey": rt.legal.vkey()}
    if json_out:
        emit(out)
    else:
        typer.echo(f"delivery {out['delivery']} of {out['reference']} written to {out['path']} "
                   f"({out['files']} files, manifest {out['manifest']})")
        typer.echo(f"verify it with: rempart verify package {out['path']} --vkey '{out['vkey']}'")


@app.command("vkey")
def legal_vkey() -> None:
    """Print the verifier key of disclosure packages (give it to authorities)."""
    with errors_to_exit():
        typer.echo(runtime().legal.vkey())
