"""`rempart demo` shows the legal desk: agency, officer, orders, a verified package, an
emergency request being verified, and a CyberTipline report acknowledged by the local server."""

from __future__ import annotations

from sqlalchemy import select

from rempart.demo import run_demo
from rempart.legal.db.models import Callback, LegalOrder, TiplineReport


def test_the_demo_runs_the_legal_desk(runtime):
    summary = run_demo(runtime, uploads=80, log=lambda m: None)
    legal = summary.legal
    assert legal is not None and legal.package_verified and legal.tipline_report
    assert set(legal.orders) == {"DEMO-PR-1", "DEMO-EPOC-1", "DEMO-EMR-1"}
    assert "demo-officer" in legal.credentials and legal.credentials["demo-officer"]["api_key"]
    with runtime.db.session() as s:
        kinds = {o.reference: (o.kind, o.status) for o in s.scalars(select(LegalOrder))}
        assert kinds["DEMO-EPOC-1"] == ("epoc", "answered") and kinds["DEMO-PR-1"] == ("epoc_pr", "preserving")
        assert s.scalars(select(Callback)).one().confirmed
        assert s.scalars(select(TiplineReport)).one().status == "finished"
    assert "legal desk" in summary.render()
