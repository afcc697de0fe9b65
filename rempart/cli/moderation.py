"""``rempart user`` (console accounts) and ``rempart case`` (the moderation queues)."""

from __future__ import annotations

import typer

from rempart.cli.common import emit, errors_to_exit, runtime

user_app = typer.Typer(help="Console users (password + TOTP).", no_args_is_help=True)
case_app = typer.Typer(help="Moderation cases.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="Username (lowercase letters, digits, _ . -)."),
    role: str = typer.Option(..., "--role",
                             help="moderator, child-safety-moderator, lead or admin."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Create a user; print the one-time password and TOTP enrolment once."""
    from rempart.people import bootstrap_user, parse_role

    from rempart.authz import Role
    from rempart.errors import InvalidInput

    with errors_to_exit():
        if parse_role(role) is Role.OFFICER:
            raise InvalidInput("an officer belongs to an agency: rempart officer add USERNAME --agency NAME")
        rt = runtime()
        with rt.db.session() as s:
            new = bootstrap_user(s, name, parse_role(role))
    out = {"id": new.user.id, "username": new.user.username, "role": new.user.role,
           "one_time_password": new.one_time_password, "totp_secret": new.totp_secret,
           "otpauth_uri": new.totp_uri}
    show_new_person(out, json_out, f"user {out['username']} ({out['role']}) created")


def show_new_person(out: dict, json_out: bool, headline: str) -> None:
    """A new person's one-time credentials, shown once (JSON, or lines for a human)."""
    if json_out:
        emit(out)
        return
    typer.echo(f"{headline}; shown once:")
    typer.echo(f"  one-time password  {out['one_time_password']}  (must be changed at first login)")
    typer.echo(f"  TOTP secret        {out['totp_secret']}")
    typer.echo(f"  otpauth URI        {out['otpauth_uri']}")


@user_app.command("list")
def user_list(json_out: bool = typer.Option(False, "--json")) -> None:
    """List users (never their secrets)."""
    from rempart.people import list_users

    with errors_to_exit():
        rt = runtime()
        with rt.db.session() as s:
            for u in list_users(s):
                row = {"id": u.id, "username": u.username, "role": u.role,
                       "created_at": u.created_at.isoformat(),
                       "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
                       "disabled": u.disabled_at is not None}
                if json_out:
                    emit(row)
                else:
                    typer.echo(f"{u.id:4}  {u.username:24} {u.role:24}"
                               + ("  (disabled)" if row["disabled"] else ""))


def case_json(case, now) -> dict:
    from rempart.moderation import case_sla

    return {"id": case.id, "queue": case.queue.name, "source": case.source,
            "status": case.status, "subject": case.subject, "account": case.account,
            "space": case.space, "priority": case.priority, "items": len(case.items),
            "created_at": case.created_at.isoformat(), "due_at": case.due_at.isoformat(),
            "sla": case_sla(case, now).value, "claimed_by": case.claimed_by}


@case_app.command("list")
def case_list(
    queue: str = typer.Option(None, "--queue", help="Only this queue."),
    all_: bool = typer.Option(False, "--all", help="Decided cases too."),
    limit: int = typer.Option(200, help="At most this many cases."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List cases in serving order (undecided ones unless --all). Audited as operator:cli."""
    from rempart.authz import shell_operator_as_lead
    from rempart.moderation import CaseStatus, list_cases
    from rempart.store.db import utcnow

    with errors_to_exit():
        rt = runtime()
        now = utcnow()
        with rt.db.session() as s:
            statuses = tuple(CaseStatus) if all_ else None
            if queue is not None:
                rt.moderation.queue(queue)  # InvalidInput for a queue not configured
            cases = list_cases(s, shell_operator_as_lead(), rt.moderation, queue=queue,
                               statuses=statuses, limit=limit)
            for c in cases:
                row = case_json(c, now)
                if json_out:
                    emit(row)
                else:
                    typer.echo(f"{c.id:5}  {row['queue']:16} {c.status:16} {row['sla']:9} "
                               f"{row['items']:3} item(s)  {c.title}")
