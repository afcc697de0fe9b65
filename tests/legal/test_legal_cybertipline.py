"""CyberTipline reports against the local server of the documented protocol: the whole sequence,
retries without a second report, failure answers, retraction, resuming after a crash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET

import httpx
import pytest

from rempart.errors import Conflict, InvalidInput
from rempart.legal.cybertipline import (
    PRESERVATION_AFTER_REPORT, CyberTipReport, CyberTiplineClient, Family, IncidentType, IpEvent,
    IpEventName, Person, Phase, ReportedUser, Reporter, ReportFile, Step, Submission, family,
    file_details_xml, parse_response, report_xml, submit_report,
)
from rempart.legal.cybertipline.protocol import MalformedResponse, response_xml
from rempart.legal.cybertipline.testserver import CyberTiplineTestServer
from rempart.legal.errors import (
    CyberTiplineAuthError, CyberTiplineRejected, CyberTiplineUnavailable, SubmissionUncertain,
)
from tests.legal.legal_helpers import GOLDEN

NOW = dt.datetime(2026, 8, 20, 12, 0)
FILES = {"item-1": b"\xff\xd8\xff benign stand-in one", "item-2": b"\x89PNG benign stand-in two"}
REPORT = CyberTipReport(
    IncidentType.CHILD_PORNOGRAPHY, dt.datetime(2026, 8, 20, 9, 59),
    Reporter("legal@platform.example", first_name="Legal", last_name="Team",
             company_template="Serve legal process at legal@platform.example; data kept 1 year.",
             legal_url="https://platform.example/legal"),
    ReportedUser("u-123", screen_name="someone_42", display_name="Someone", esp_service="Chat",
                 person=Person(email="someone@example.net"),
                 ip_events=(IpEvent("203.0.113.7", IpEventName.UPLOAD, dt.datetime(2026, 8, 20, 9, 59), False, 51000),),
                 prior_reports=(111222,), group_identifier="space-9", additional_info="Blocked at upload."),
    files=(ReportFile("item-1", "IMG_0001.jpg", viewed_by_esp=False, publicly_available=False,
                      original_hashes=(("MD5", hashlib.md5(FILES["item-1"]).hexdigest()),
                                       ("SHA256", hashlib.sha256(FILES["item-1"]).hexdigest())),
                      uploaded_at=dt.datetime(2026, 8, 20, 9, 59), industry_classification="A1",
                      ip_event=IpEvent("203.0.113.7", IpEventName.UPLOAD)),
           ReportFile("item-2", "image.png", viewed_by_esp=True, publicly_available=True, exif_viewed_by_esp=False)),
    escalate="The account asked a child to meet.")


@pytest.fixture
def server():
    with CyberTiplineTestServer(stall=1.5) as s:
        yield s


def client_for(server, **kw) -> CyberTiplineClient:
    kw = {"timeout": 0.4, "connect_timeout": 0.4, "retries": 3, "sleep": lambda s: None, **kw}
    return CyberTiplineClient(server.url, kw.pop("username", "usr123"), kw.pop("password", "pswd123"), **kw)


def run(server, state=None, saved=None, **kw) -> Submission:
    state = state or Submission.new("case-12/u-123", list(FILES))
    with client_for(server, **kw) as c:
        return submit_report(c, state, REPORT, FILES, save=(saved.append if saved is not None else lambda s: None),
                             now=lambda: NOW)


def reports_by_status(server) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in server.reports.values():
        out[r.status] = out.get(r.status, 0) + 1
    return out


# --- documents ---

def test_report_and_file_details_golden() -> None:
    assert report_xml(REPORT) == (GOLDEN / "cybertip-report.xml").read_bytes()
    assert file_details_xml("4564654", "f1", REPORT.files[0]) == (GOLDEN / "cybertip-fileDetails.xml").read_bytes()


def test_file_details_carry_the_recorded_facts() -> None:
    root = ET.fromstring(file_details_xml("4564654", "f2", REPORT.files[1]))
    assert root.findtext("fileViewedByEsp") == "true" and root.findtext("publiclyAvailable") == "true"
    assert root.findtext("exifViewedByEsp") == "false" and root.findtext("fileRelevance") == "Reported"
    first = ET.fromstring(file_details_xml("4564654", "f1", REPORT.files[0]))
    assert [(h.get("hashType"), len(h.text)) for h in first.findall("originalFileHash")] == [("MD5", 32), ("SHA256", 64)]
    report = ET.fromstring(report_xml(REPORT))
    assert report.findtext("personOrUserReported/groupIdentifier") == "space-9"
    assert report.findtext("personOrUserReported/espIdentifier") == "u-123"


@pytest.mark.parametrize("change, field", [
    (lambda r: r.__class__(r.incident_type, r.incident_at, Reporter("nope"), r.reported), "reporter.email"),
    (lambda r: r.__class__(r.incident_type, r.incident_at, r.reporter,
                           ReportedUser("u\x00-1")), "reported.esp_identifier"),
    (lambda r: r.__class__(r.incident_type, r.incident_at, r.reporter,
                           ReportedUser("u", ip_events=(IpEvent("300.1.1.1"),))), "reported.ip_events[0].ip"),
    (lambda r: r.__class__(r.incident_type, r.incident_at, r.reporter, ReportedUser("u", prior_reports=(0,))),
     "reported.prior_reports"),
    (lambda r: r.__class__("Something else", r.incident_at, r.reporter, r.reported), None),
])
def test_invalid_reports_are_refused_before_sending(change, field) -> None:
    with pytest.raises((InvalidInput, ValueError)) as info:
        report_xml(change(REPORT))
    if field:
        assert field in str(info.value)


def test_invalid_files_are_refused_before_anything_is_sent(server) -> None:
    bad = CyberTipReport(REPORT.incident_type, REPORT.incident_at, REPORT.reporter, REPORT.reported,
                         files=(ReportFile("item-1", "a.jpg", True, False, original_hashes=(("SHA1", "00"),)),
                                REPORT.files[1]))
    with pytest.raises(InvalidInput, match="SHA1"), client_for(server) as c:
        submit_report(c, Submission.new("k", list(FILES)), bad, FILES, save=lambda s: None, now=lambda: NOW)
    assert server.calls == []


def test_invalid_file_details_are_refused() -> None:
    bad_hash = ReportFile("k", "a.jpg", True, False, original_hashes=(("MD5", "abc"),))
    with pytest.raises(InvalidInput, match="MD5 wants 32"):
        file_details_xml("1", "f", bad_hash)
    with pytest.raises(InvalidInput, match="industry_classification"):
        file_details_xml("1", "f", ReportFile("k", "a.jpg", True, False, industry_classification="C3"))


# --- responses ---

def test_response_documents() -> None:
    ok = parse_response(response_xml(0, "Success", report_id="4564654", file_id="ab", hash="cd"))
    assert (ok.code, ok.report_id, ok.file_id, ok.hash, ok.family) == (0, "4564654", "ab", "cd", Family.SUCCESS)
    done = parse_response(response_xml(0, "", report_id="1", file_ids=("a", "b")))
    assert done.root == "reportDoneResponse" and done.file_ids == ("a", "b")
    for bad in (b"<html/>", b"<reportResponse/>", b"<reportResponse><responseCode>x</responseCode></reportResponse>",
                b"<!DOCTYPE r [<!ENTITY a 'b'>]><reportResponse><responseCode>0</responseCode></reportResponse>",
                b"<reportResponse><responseCode>0</responseCode>", b"x" * 70_000):
        with pytest.raises(MalformedResponse):
            parse_response(bad)
    assert [family(c) for c in (0, 1000, 1111, 2000, 3100, 4100, 5102, 9999)] == [
        Family.SUCCESS, Family.SERVER, Family.SERVER, Family.AUTH, Family.AUTH, Family.REQUEST, Family.STATE,
        Family.UNKNOWN]


# --- the state machine ---

def test_submission_record_round_trip_and_guards() -> None:
    s = Submission.new("k", ["a", "b"])
    assert s.next_step() == (Step.SUBMIT, None)
    s = s.submitting().opened("42").uploaded("a", "fa", "m").uploaded("b", "fb", None)
    assert s.next_step() == (Step.FILEINFO, "a")
    s = s.info_sent("a").info_sent("b")
    assert s.next_step() == (Step.FINISH, None)
    s = s.finished(["fa", "fb"], NOW)
    assert s.next_step() == (Step.DONE, None) and s.preserve_until == NOW + PRESERVATION_AFTER_REPORT
    assert Submission.from_json(json.loads(json.dumps(s.to_json()))) == s
    with pytest.raises(Conflict):
        s.submitting()
    with pytest.raises(InvalidInput):
        Submission.from_json({**s.to_json(), "phase": "flying"})
    with pytest.raises(InvalidInput):
        Submission.from_json({**s.to_json(), "extra": 1})
    with pytest.raises(InvalidInput):
        Submission.new("k", ["a", "a"])


# --- against the local server ---

def test_the_full_documented_sequence(server) -> None:
    saved: list[Submission] = []
    with client_for(server) as c:
        assert "usr123" in c.status().description
    state = run(server, saved=saved)
    assert state.phase is Phase.FINISHED and state.report_id == "4564654"
    assert state.finished_at == NOW and state.preserve_until == NOW + dt.timedelta(days=365)
    assert server.calls == ["status", "submit", "upload", "upload", "fileinfo", "fileinfo", "finish"]
    [report] = server.finished_reports()
    assert report.xml == report_xml(REPORT) and len(report.files) == 2
    assert {f.md5 for f in report.files.values()} == {hashlib.md5(b).hexdigest() for b in FILES.values()}
    assert all(f.details for f in report.files.values())
    assert set(state.file_ids) == set(report.files)
    # saved after every step, and the first save precedes the /submit
    assert [s.phase for s in saved][:2] == [Phase.SUBMITTING, Phase.OPEN] and saved[-1] == state
    assert run(server, state=state) == state and len(server.calls) == 7  # done: nothing more is sent


@pytest.mark.parametrize("endpoint", ["submit", "upload", "fileinfo", "finish"])
@pytest.mark.parametrize("failure", ["server_error", "http_500"])
def test_server_errors_are_retried_without_a_second_report(server, endpoint, failure) -> None:
    server.inject(endpoint, failure, times=2)
    assert run(server).phase is Phase.FINISHED
    assert reports_by_status(server) == {"finished": 1}
    assert server.calls.count(endpoint) == (3 if endpoint == "finish" or endpoint == "submit" else 4)


@pytest.mark.parametrize("endpoint", ["upload", "fileinfo", "finish"])
@pytest.mark.parametrize("failure", ["http_503", "malformed", "timeout", "lost_ack"])
def test_calls_with_a_report_id_are_retried_whatever_happened(server, endpoint, failure) -> None:
    server.inject(endpoint, failure)
    state = run(server)
    assert state.phase is Phase.FINISHED and reports_by_status(server) == {"finished": 1}


@pytest.mark.parametrize("failure", ["http_503", "malformed", "timeout", "lost_ack"])
def test_a_lost_submit_answer_is_never_resent(server, failure) -> None:
    server.inject("submit", failure)
    saved: list[Submission] = []
    with pytest.raises(SubmissionUncertain):
        run(server, saved=saved)
    state = saved[-1]
    assert state.phase is Phase.UNCERTAIN and server.calls.count("submit") == 1
    with pytest.raises(SubmissionUncertain):  # resuming does not resend it either
        run(server, state=state)
    assert server.calls.count("submit") == 1
    # a person asks NCMEC, then reconciles with what NCMEC says
    opened = list(server.reports)
    state = state.reconcile_report_id(opened[0]) if opened else state.confirm_not_opened()
    assert run(server, state=state).phase is Phase.FINISHED
    assert reports_by_status(server) == {"finished": 1}
    assert (len(opened) == 1) == (failure == "lost_ack")


def test_an_unreachable_server_opens_nothing(server) -> None:
    server.stop()
    saved: list[Submission] = []
    with pytest.raises(CyberTiplineUnavailable):
        run(server, saved=saved)
    assert saved[-1].phase is Phase.NEW and "cannot connect" in saved[-1].error


@pytest.mark.parametrize("crash_after", range(1, 8))
def test_resuming_after_a_crash_at_any_step_files_one_report(server, crash_after) -> None:
    saved: list[Submission] = []

    def save(s: Submission) -> None:
        saved.append(s)
        if len(saved) == crash_after:
            raise KeyboardInterrupt("the process dies here")

    with pytest.raises(KeyboardInterrupt), client_for(server) as c:
        submit_report(c, Submission.new("k", list(FILES)), REPORT, FILES, save=save, now=lambda: NOW)
    state = Submission.from_json(json.loads(json.dumps(saved[-1].to_json())))  # what the database held
    if state.phase is Phase.SUBMITTING:  # died with /submit in flight: ask NCMEC
        state = state.reconcile_report_id(next(iter(server.reports))) if server.reports else state.confirm_not_opened()
    assert run(server, state=state).phase is Phase.FINISHED
    assert reports_by_status(server) == {"finished": 1}


def test_refused_content_is_retracted_then_sent_again(server) -> None:
    server.inject("fileinfo", "validation")
    saved: list[Submission] = []
    with pytest.raises(CyberTiplineRejected, match="retracted"):
        run(server, saved=saved)
    state = saved[-1]
    assert state.phase is Phase.RETRACTED and state.retracted == ("4564654",) and state.error_code == 4100
    assert server.calls[-1] == "retract" and reports_by_status(server) == {"retracted": 1}
    assert run(server, state=state) == state  # nothing to do until someone restarts it
    final = run(server, state=state.restart())
    assert final.phase is Phase.FINISHED and final.report_id != "4564654" and final.retracted == ("4564654",)
    assert reports_by_status(server) == {"retracted": 1, "finished": 1}


def test_a_refused_submit_opens_nothing(server) -> None:
    server.inject("submit", "validation")
    saved: list[Submission] = []
    with pytest.raises(CyberTiplineRejected):
        run(server, saved=saved)
    assert saved[-1].phase is Phase.NEW and saved[-1].error_code == 4100 and not server.reports


def test_authentication_failures(server) -> None:
    saved: list[Submission] = []
    with pytest.raises(CyberTiplineAuthError):
        run(server, saved=saved, password="wrong")
    assert saved[-1].phase is Phase.NEW and not server.reports
    server.inject("upload", "auth")
    saved.clear()
    with pytest.raises(CyberTiplineAuthError):
        run(server, saved=saved)
    state = saved[-1]
    assert state.phase is Phase.OPEN and state.error_code == 2000  # kept open: fix credentials, resume
    assert run(server, state=state).phase is Phase.FINISHED and reports_by_status(server) == {"finished": 1}


def test_a_lost_finish_answer_is_confirmed_by_already_finished(server) -> None:
    server.inject("finish", "lost_ack")
    state = run(server)
    assert state.phase is Phase.FINISHED and server.calls.count("finish") == 2
    assert set(state.file_ids) == set(next(iter(server.reports.values())).files)


def test_retries_are_bounded_and_back_off(server) -> None:
    server.inject("upload", "http_500", times=10)
    delays: list[float] = []
    saved: list[Submission] = []
    with pytest.raises(CyberTiplineUnavailable, match="gave up after 4"):
        run(server, saved=saved, sleep=delays.append, backoff=0.5)
    assert delays == [0.5, 1.0, 2.0]
    assert saved[-1].phase is Phase.OPEN and "gave up" in saved[-1].error  # resumable later


def test_the_server_checks_documents_and_states(server) -> None:
    auth = httpx.BasicAuth("usr123", "pswd123")
    out_of_order = (b"<report><reporter><reportingPerson><email>a@b.cd</email></reportingPerson></reporter>"
                    b"<incidentSummary><incidentType>Child Sex Tourism</incidentType>"
                    b"<incidentDateTime>2026-08-20T10:00:00Z</incidentDateTime></incidentSummary></report>")
    r = httpx.post(server.url + "/submit", content=out_of_order, auth=auth)
    assert parse_response(r.content).code == 4100
    r = httpx.post(server.url + "/finish", data={"id": "nope"}, auth=auth)
    assert parse_response(r.content).code == 5001
    rid = parse_response(httpx.post(server.url + "/submit", content=report_xml(REPORT), auth=auth).content).report_id
    assert parse_response(httpx.post(server.url + "/retract", data={"id": rid}, auth=auth).content).code == 0
    assert parse_response(httpx.post(server.url + "/finish", data={"id": rid}, auth=auth).content).code == 5101
    assert httpx.get(server.url + "/status").status_code == 401
    assert httpx.get(server.url + "/xsd", auth=auth).status_code == 404
