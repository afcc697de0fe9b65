"""The CyberTipline client: a thin HTTP layer (httpx) and the driver of a ``Submission``.

``CyberTiplineClient`` makes one protocol call at a time, retrying with exponential backoff
when that cannot duplicate anything, and translates every httpx failure into a
``rempart.legal.errors`` one (this is the only module that imports httpx):

- a connection that never opened, a 5xx or an explicit 1xxx code, an unknown code: retried,
  then ``CyberTiplineUnavailable``;
- 401/403 and 2xxx/3xxx: ``CyberTiplineAuthError`` at once; 4xxx: ``CyberTiplineRejected``;
- 5xxx (report state) codes are returned for the driver to interpret;
- /submit is special: no report id exists yet, so an answer that may have been lost after the
  request left (read timeout, dropped connection, an unreadable body or a success without a
  reportId) raises ``SubmissionUncertain`` and is never retried: a retry could file a second
  report. Every other call carries the report id, and repeating it cannot open a report.

``submit_report(client, state, report, files, save=..., now=...)`` runs the documented
sequence (submit, upload, fileinfo, finish) from wherever ``state`` stopped, calling ``save``
with the new state after every step. When NCMEC refuses the content of an open report it
retracts that report (as documented) and raises ``CyberTiplineRejected``; the state then lists
the retracted id and can be ``restart``ed once the report is fixed.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from rempart.errors import InvalidInput
from rempart.legal.cybertipline.protocol import Family, MalformedResponse, Response, ResponseCode, parse_response
from rempart.legal.cybertipline.report import CyberTipReport, check_report, file_details_xml
from rempart.legal.cybertipline.state import Phase, Step, Submission
from rempart.legal.errors import (
    CyberTiplineAuthError, CyberTiplineRejected, CyberTiplineUnavailable, SubmissionUncertain,
)

_XML = {"Content-Type": "text/xml; charset=utf-8"}


class CyberTiplineClient:
    def __init__(self, base_url: str, username: str, password: str, *, timeout: float = 30.0,
                 connect_timeout: float = 10.0, retries: int = 4, backoff: float = 1.0,
                 max_backoff: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise InvalidInput("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff, self.max_backoff, self.sleep = retries, backoff, max_backoff, sleep
        # no Nagle delay between a request's headers and its body (and no hidden retries)
        transport = transport or httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = httpx.Client(auth=(username, password), transport=transport, follow_redirects=False,
                                  timeout=httpx.Timeout(timeout, connect=connect_timeout))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CyberTiplineClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def status(self) -> Response:
        return self._call("GET", "/status")

    def submit(self, report: bytes) -> Response:
        resp = self._call("POST", "/submit", content=report, headers=_XML, opens_report=True)
        if resp.code == 0 and not resp.report_id:
            raise SubmissionUncertain("NCMEC answered success without a reportId", 0)
        return resp

    def upload(self, report_id: str, file_name: str, data: bytes) -> Response:
        return self._call("POST", "/upload", data={"id": report_id},
                          files={"file": (file_name, data, "application/octet-stream")})

    def fileinfo(self, details: bytes) -> Response:
        return self._call("POST", "/fileinfo", content=details, headers=_XML)

    def finish(self, report_id: str) -> Response:
        return self._call("POST", "/finish", data={"id": report_id})

    def retract(self, report_id: str) -> Response:
        return self._call("POST", "/retract", data={"id": report_id})

    def _call(self, method: str, path: str, *, opens_report: bool = False, **kw) -> Response:
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
            try:
                r = self._http.request(method, self.base_url + path, **kw)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                last = f"cannot connect: {_said(exc)}"  # the request never left: safe to repeat
                continue
            except httpx.TransportError as exc:
                if opens_report:
                    raise SubmissionUncertain(f"/submit sent, answer lost ({_said(exc)})") from None
                last = f"{path}: {_said(exc)}"
                continue
            try:
                resp = parse_response(r.content)
            except MalformedResponse as exc:
                resp, last = None, f"{path}: HTTP {r.status_code}, {exc}"
            if r.status_code in (401, 403) or (resp is not None and resp.family is Family.AUTH):
                raise CyberTiplineAuthError(f"{path}: NCMEC refused the credentials "
                                            f"({resp.description if resp else r.status_code})",
                                            resp.code if resp else None)
            if resp is None:
                if opens_report and r.status_code not in (400, 404, 405, 413, 415):
                    raise SubmissionUncertain(f"/submit sent, unreadable answer: {last}") from None
                if 400 <= r.status_code < 500:
                    raise CyberTiplineRejected(last)
                continue
            if resp.family in (Family.SUCCESS, Family.STATE):
                return resp
            if resp.family is Family.REQUEST:
                raise CyberTiplineRejected(f"{path}: {resp.code} {resp.description}", resp.code)
            last = f"{path}: {resp.code} {resp.description}"  # server or unknown: retry
        raise CyberTiplineUnavailable(f"gave up after {self.retries + 1} attempts: {last}")


def _load(source: bytes | Path) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def submit_report(client: CyberTiplineClient, state: Submission, report: CyberTipReport,
                  files: Mapping[str, bytes | Path], *, save: Callable[[Submission], None],
                  now: Callable[[], dt.datetime]) -> Submission:
    """Drive ``state`` to ``finished`` (or raise, with the state saved). ``files`` maps each
    file key of the report to its bytes."""
    by_key = {f.key: f for f in report.files}
    if set(by_key) != {f.key for f in state.files} or set(files) != set(by_key):
        raise InvalidInput("the report, the submission and the files must name the same file keys")
    body = check_report(report)  # invalid content fails here, before anything is sent

    def step(new: Submission) -> Submission:
        save(new)
        return new

    while True:
        what, key = state.next_step()
        if what is Step.DONE:
            return state
        if what is Step.RECONCILE:
            raise SubmissionUncertain(f"submission {state.key}: {state.error or 'a /submit answer was lost'}; "
                                      "ask NCMEC whether the report exists, then reconcile")
        if what is Step.SUBMIT:
            state = step(state.submitting())
            try:
                resp = client.submit(body)
            except SubmissionUncertain as exc:
                state = step(state.uncertain(str(exc)))
                raise
            except (CyberTiplineUnavailable, CyberTiplineAuthError, CyberTiplineRejected) as exc:
                state = step(state.not_opened(str(exc), exc.code))
                raise
            if resp.family is not Family.SUCCESS:  # a state code to a submit: nothing opened
                state = step(state.not_opened(f"/submit: {resp.code} {resp.description}", resp.code))
                raise CyberTiplineRejected(state.error, resp.code)
            state = step(state.opened(resp.report_id))
            continue
        try:
            state = step(_advance(client, state, what, key, by_key, files, now))
        except CyberTiplineRejected as exc:
            if state.phase is Phase.OPEN:
                state = step(state.must_retract(str(exc), exc.code))
                continue  # retract, then raise below
            raise
        except (CyberTiplineUnavailable, CyberTiplineAuthError) as exc:
            step(state.failed(str(exc), exc.code))
            raise
        if state.phase is Phase.RETRACTED:
            raise CyberTiplineRejected(f"report {state.retracted[-1]} retracted: {state.error}", state.error_code)


class Reconcile(str, enum.Enum):
    """How a person settles a submission (``reconcile``), from what NCMEC told them."""

    CONTINUE = "continue"  # NCMEC confirms the lost /submit opened REPORT_ID: finish that report
    RETRACT = "retract"  # retract REPORT_ID (the lost /submit's report), then submit afresh
    NOT_OPENED = "not_opened"  # NCMEC confirms no report was opened: submit afresh
    RESUBMIT = "resubmit"  # a retracted report, fixed: submit afresh (the old one stays retracted)


def reconcile(client: CyberTiplineClient, state: Submission, report: CyberTipReport,
              files: Mapping[str, bytes | Path], how: Reconcile, report_id: str | None = None, *,
              save: Callable[[Submission], None], now: Callable[[], dt.datetime]) -> Submission:
    """Settle an ``uncertain`` (or ``retracted``) submission as a person decided, then run it to
    the end (``submit_report``). Never a second live report:

    - ``continue``: the report id is checked on NCMEC's side by the report's next call (an
      upload, or the finish of a report without files): an unknown id (5001) changes nothing
      and is refused; a report NCMEC already retracted (5101) counts as retracted and a fresh
      report is submitted; otherwise the report is completed under that id.
    - ``retract``: ``/retract`` of the id first; only once NCMEC answers that the report is
      retracted (0 or 5101) is a fresh report submitted; an unknown id (5001) or a finished
      report (5102) changes nothing and is refused.
    - ``not_opened``: on NCMEC's word that the lost /submit opened nothing.
    - ``resubmit``: only from ``retracted``.
    """
    how = Reconcile(how)
    if how is Reconcile.RESUBMIT:
        if state.phase is not Phase.RETRACTED:
            raise InvalidInput(f"submission {state.key} is {state.phase.value}: only a retracted report is resubmitted")
        state = state.restart()
    elif state.phase not in (Phase.UNCERTAIN, Phase.SUBMITTING):  # submitting: its process stopped
        raise InvalidInput(f"submission {state.key} is {state.phase.value}, not uncertain: nothing to reconcile")
    elif how is Reconcile.NOT_OPENED:
        state = state.confirm_not_opened()
    else:
        rid = (report_id or "").strip()
        if not rid.isascii() or not rid.isdigit() or len(rid) > 20:
            raise InvalidInput("the NCMEC report id is the number NCMEC gave (digits only)")
        if how is Reconcile.RETRACT:
            resp = client.retract(rid)
            if resp.code == ResponseCode.REPORT_DOES_NOT_EXIST:
                raise InvalidInput(f"NCMEC knows no report {rid}: nothing changed")
            if resp.code == ResponseCode.REPORT_ALREADY_FINISHED:
                raise InvalidInput(f"NCMEC's report {rid} is finished: it cannot be retracted; "
                                   "ask NCMEC (nothing changed)")
            if resp.family is not Family.SUCCESS and resp.code != ResponseCode.REPORT_ALREADY_RETRACTED:
                raise CyberTiplineUnavailable(f"/retract: {resp.code} {resp.description}", resp.code)
            state = state.reconcile_report_id(rid).must_retract("retracted on reconciliation", None)
            state = state.retracted_now().restart()
        else:
            opened = state.reconcile_report_id(rid)
            what, key = opened.next_step()
            by_key = {f.key: f for f in report.files}
            try:
                state = _advance(client, opened, what, key, by_key, files, now)
                if state.phase is Phase.RETRACTED:  # /finish: NCMEC had retracted it
                    state = state.restart()
            except CyberTiplineRejected as exc:
                if exc.code == ResponseCode.REPORT_DOES_NOT_EXIST:
                    raise InvalidInput(f"NCMEC knows no report {rid}: nothing changed") from None
                if exc.code == ResponseCode.REPORT_ALREADY_RETRACTED:
                    state = opened.must_retract("NCMEC had retracted it", exc.code).retracted_now().restart()
                elif exc.code == ResponseCode.REPORT_ALREADY_FINISHED:
                    raise InvalidInput(f"NCMEC's report {rid} is already finished: ask NCMEC "
                                       "(nothing changed)") from None
                else:
                    state = opened  # the run below meets the refusal again and retracts as documented
    save(state)
    return submit_report(client, state, report, files, save=save, now=now)


def _advance(client: CyberTiplineClient, state: Submission, what: Step, key: str | None,
             by_key, files, now) -> Submission:
    rid = state.report_id
    if what is Step.UPLOAD:
        data = _load(files[key])
        resp = client.upload(rid, by_key[key].file_name, data)
        if resp.family is not Family.SUCCESS or not resp.file_id:
            raise CyberTiplineRejected(f"/upload {key}: {resp.code} {resp.description}", resp.code)
        if resp.hash and resp.hash.lower() != hashlib.md5(data).hexdigest():
            # the report now holds a damaged copy that cannot be removed: retract, send again
            raise CyberTiplineRejected(f"/upload {key}: NCMEC received different bytes (MD5 {resp.hash})")
        return state.uploaded(key, resp.file_id, resp.hash)
    if what is Step.FILEINFO:
        f = next(p for p in state.files if p.key == key)
        resp = client.fileinfo(file_details_xml(rid, f.file_id, by_key[key]))
        if resp.family is not Family.SUCCESS:
            raise CyberTiplineRejected(f"/fileinfo {key}: {resp.code} {resp.description}", resp.code)
        return state.info_sent(key)
    if what is Step.FINISH:
        resp = client.finish(rid)
        if resp.code == ResponseCode.REPORT_ALREADY_RETRACTED:
            return state.must_retract("the report was retracted elsewhere", resp.code).retracted_now()
        if resp.family is Family.SUCCESS or resp.code == ResponseCode.REPORT_ALREADY_FINISHED:
            # an earlier /finish whose answer was lost did close it: the same outcome
            return state.finished(resp.file_ids or [f.file_id for f in state.files], now())
        raise CyberTiplineRejected(f"/finish: {resp.code} {resp.description}", resp.code)
    # Step.RETRACT
    resp = client.retract(rid)
    if resp.code == ResponseCode.REPORT_ALREADY_FINISHED:  # it went through after all
        return state.finished([f.file_id for f in state.files], now())
    if resp.family is Family.SUCCESS or resp.code in (ResponseCode.REPORT_ALREADY_RETRACTED,
                                                      ResponseCode.REPORT_DOES_NOT_EXIST):
        return state.retracted_now()
    raise CyberTiplineUnavailable(f"/retract: {resp.code} {resp.description}", resp.code)


def _said(exc: Exception) -> str:
    """A transport error for a message: its kind and its text, not its Python repr."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
