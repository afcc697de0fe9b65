"""The demo's exchange part: three local servers synced through their failures, provenance, a
withdrawal, feedback and a signed partner feed page."""

from __future__ import annotations

from rempart.banks import service as banks
from rempart.demo.exchanges import run_exchange_demo
from rempart.demo.pictures import jpeg, picture


def test_the_exchange_demo_shows_every_step(runtime):
    with runtime.db.session() as s:
        banks.create_bank(s, "demo-known")
    runtime.bank_media("demo-known", runtime.fingerprint(jpeg(picture(3))))
    demo = run_exchange_demo(runtime, "demo-known", log=lambda m: None)
    assert {k: (v["added"], v["skipped"], v["retries"], v["status"]) for k, v in demo.synced.items()} == {
        "demo-ncmec": (3, 1, 2, "ok"), "demo-threatexchange": (2, 1, 2, "ok"), "demo-stopncii": (2, 1, 2, "ok")}
    assert demo.blocked_with["exchange"] == "demo-ncmec" and demo.blocked_with["upstream_ids"] == ["demo-600"]
    assert demo.after_withdrawal.startswith("no longer matched") and demo.feedback_sent == 1
    assert demo.feed_verified and demo.feed_items >= 1
    rendered = "\n".join(demo.render())
    assert "hash-sharing exchanges" in rendered and "tester:s3cret" not in rendered
