"""A big import's retro-scan runs as a background job: recorded with the import, resumable,
with progress, and scans go on while it runs."""

from __future__ import annotations

import threading

from sqlalchemy import select

from rempart.banks import retro_jobs, service
from rempart.banks.models import RetroJob
from rempart.scanning.models import ItemMatch
from tests.factories import image_bytes


def _big_list(fp, n: int = 40) -> bytes:
    lines = [f"md5 {i:032x}" for i in range(1, n)] + [f"pdq {fp.frames[0].pdq}"]
    return ("\n".join(lines) + "\n").encode()


def test_a_big_import_records_a_job_that_finds_past_items(runtime, monkeypatch):
    monkeypatch.setattr(retro_jobs, "BACKGROUND_ENTRIES", 10)
    past = runtime.scan_media(image_bytes(12))
    assert past.verdict == "allow"
    fp = runtime.fingerprint(image_bytes(12))
    with runtime.db.session() as s:
        service.create_bank(s, "big")
    outcome = runtime.import_list("big", _big_list(fp), "te")
    assert outcome.retro == [] and outcome.retro_job is not None
    with runtime.db.session() as s:
        job = s.get(RetroJob, outcome.retro_job)
        assert (job.state, job.entries) == ("pending", 40)
        assert s.scalars(select(ItemMatch).where(ItemMatch.found_by == "retro")).all() == []

    # Scans are not held up while the job runs: one runs from another thread mid-job.
    during: list[str] = []

    def progress(done: int, total: int) -> None:
        t = threading.Thread(target=lambda: during.append(
            runtime.scan_media(image_bytes(99)).verdict))
        t.start()
        t.join(30)
        assert not t.is_alive()

    assert runtime.run_retro_jobs(progress=progress) == 1
    assert during == ["allow"]
    with runtime.db.session() as s:
        job, bank = retro_jobs.get_job(s, outcome.retro_job)
        body = retro_jobs.job_json(job, bank)
        found = s.scalars(select(ItemMatch).where(ItemMatch.found_by == "retro")).all()
    assert body["state"] == "done" and body["matches"] == 1 and body["examined"] == body["total"] > 0
    assert [m.item_id for m in found] == [past.item_id]
    assert runtime.run_retro_jobs() == 0  # nothing left to claim


def test_a_job_is_claimed_once_and_taken_over_when_its_runner_went_quiet(runtime, monkeypatch):
    monkeypatch.setattr(retro_jobs, "BACKGROUND_ENTRIES", 10)
    runtime.scan_media(image_bytes(13))
    with runtime.db.session() as s:
        service.create_bank(s, "big")
    job_id = runtime.import_list("big", _big_list(runtime.fingerprint(image_bytes(13))),
                                 "te").retro_job
    with runtime.db.session() as s:
        assert retro_jobs.claim(s).id == job_id
    with runtime.db.session() as s:
        assert retro_jobs.claim(s) is None  # running, and its runner is alive
    monkeypatch.setattr(retro_jobs, "STALE_SECONDS", -1.0)  # its runner stopped reporting
    assert runtime.run_retro_jobs() == 1
    with runtime.db.session() as s:
        assert retro_jobs.get_job(s, job_id)[0].matches == 1
