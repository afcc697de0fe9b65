"""The progress of one CyberTipline submission: a pure state machine the caller persists.

A ``Submission`` records how far a report went (report id, each file's id and whether its
details were sent, the finish, a retraction) so that a process that stops anywhere resumes
where it stopped without sending anything twice that could file a second report. The caller
stores ``to_json()`` after every step (the driver calls ``save``) and passes it back.

Phases::

    new ──submit sent──> submitting ──reportId──> open ──uploads, fileinfo──> finish ──> finished
     ^                      │ answer lost                │ NCMEC refused content
     │                      v                            v
     └─confirm_not_opened─ uncertain              retracting ──/retract──> retracted ──restart──> new
                            │ reconcile_report_id ──> open

``submitting`` is stored *before* /submit is sent: if the process dies before the answer is
stored, resuming finds ``submitting`` and stops as ``uncertain`` instead of opening a second
report. Only a person can leave ``uncertain``, once NCMEC tells them whether the report exists
(``client.reconcile``: continue under NCMEC's id, retract it and restart, or confirm nothing
was opened); a ``retracted`` report is ``restart``ed by a person too, once fixed.
The failed attempts' report ids stay in ``retracted``.

JSON (``format`` first; the file list keeps the order of the report's files)::

    {"format": "rempart-cybertip-submission/v1", "key": "case-12/account-u-123",
     "phase": "open", "report_id": "4564654", "files": [{"key": "item-9", "file_id": "b07...",
     "md5": "fafa...", "info_sent": true}], "retracted": [], "file_ids": [],
     "finished_at": null, "error": null, "error_code": null}
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rempart.errors import Conflict, InvalidInput, shown
from rempart.legal._common import format_time, parse_time

FORMAT = "rempart-cybertip-submission/v1"
#: 18 U.S.C. 2258A(h)(1), as amended by the REPORT Act (2024): a provider preserves the contents
#: of a report for one year after submitting it.
PRESERVATION_AFTER_REPORT = dt.timedelta(days=365)


class Phase(str, enum.Enum):
    NEW = "new"
    SUBMITTING = "submitting"
    UNCERTAIN = "uncertain"
    OPEN = "open"
    RETRACTING = "retracting"
    RETRACTED = "retracted"
    FINISHED = "finished"


class Step(str, enum.Enum):
    SUBMIT = "submit"
    UPLOAD = "upload"
    FILEINFO = "fileinfo"
    FINISH = "finish"
    RETRACT = "retract"
    RECONCILE = "reconcile"  # a person must find out whether the report exists
    DONE = "done"


@dataclass(frozen=True)
class FileProgress:
    key: str
    file_id: str | None = None
    md5: str | None = None
    info_sent: bool = False


@dataclass(frozen=True)
class Submission:
    key: str
    phase: Phase = Phase.NEW
    files: tuple[FileProgress, ...] = ()
    report_id: str | None = None
    retracted: tuple[str, ...] = ()
    file_ids: tuple[str, ...] = ()
    finished_at: dt.datetime | None = None
    error: str | None = None
    error_code: int | None = None

    @classmethod
    def new(cls, key: str, file_keys: Sequence[str]) -> Submission:
        if not key or len(set(file_keys)) != len(file_keys):
            raise InvalidInput("a submission needs a key and distinct file keys")
        return cls(key, files=tuple(FileProgress(k) for k in file_keys))

    @property
    def preserve_until(self) -> dt.datetime | None:
        return None if self.finished_at is None else self.finished_at + PRESERVATION_AFTER_REPORT

    def next_step(self) -> tuple[Step, str | None]:
        """What to do next, and for which file."""
        if self.phase is Phase.NEW:
            return Step.SUBMIT, None
        if self.phase in (Phase.SUBMITTING, Phase.UNCERTAIN):
            return Step.RECONCILE, None
        if self.phase is Phase.RETRACTING:
            return Step.RETRACT, None
        if self.phase is Phase.OPEN:
            for f in self.files:
                if f.file_id is None:
                    return Step.UPLOAD, f.key
            for f in self.files:
                if not f.info_sent:
                    return Step.FILEINFO, f.key
            return Step.FINISH, None
        return Step.DONE, None

    def _need(self, *phases: Phase) -> None:
        if self.phase not in phases:
            raise Conflict(f"submission {self.key} is {self.phase.value}, not {'/'.join(p.value for p in phases)}")

    def _file(self, key: str, **changes) -> tuple[FileProgress, ...]:
        if key not in {f.key for f in self.files}:
            raise InvalidInput(f"no file {shown(key)} in submission {self.key}")
        return tuple(replace(f, **changes) if f.key == key else f for f in self.files)

    # --- transitions (each returns the new state) ---

    def submitting(self) -> Submission:
        self._need(Phase.NEW)
        return replace(self, phase=Phase.SUBMITTING, error=None, error_code=None)

    def not_opened(self, error: str, code: int | None = None) -> Submission:
        """The /submit definitely opened nothing (refused, or never reached the server)."""
        self._need(Phase.SUBMITTING)
        return replace(self, phase=Phase.NEW, error=error, error_code=code)

    def uncertain(self, error: str) -> Submission:
        self._need(Phase.SUBMITTING)
        return replace(self, phase=Phase.UNCERTAIN, error=error)

    def opened(self, report_id: str) -> Submission:
        self._need(Phase.SUBMITTING)
        return replace(self, phase=Phase.OPEN, report_id=report_id, error=None, error_code=None)

    def uploaded(self, key: str, file_id: str, md5: str | None) -> Submission:
        self._need(Phase.OPEN)
        return replace(self, files=self._file(key, file_id=file_id, md5=md5))

    def info_sent(self, key: str) -> Submission:
        self._need(Phase.OPEN)
        return replace(self, files=self._file(key, info_sent=True))

    def finished(self, file_ids: Sequence[str], at: dt.datetime) -> Submission:
        self._need(Phase.OPEN, Phase.RETRACTING)
        return replace(self, phase=Phase.FINISHED, file_ids=tuple(file_ids), finished_at=at,
                       error=None, error_code=None)

    def failed(self, error: str, code: int | None = None) -> Submission:
        """A transient failure: note it, keep the phase (resume later)."""
        return replace(self, error=error, error_code=code)

    def must_retract(self, error: str, code: int | None) -> Submission:
        self._need(Phase.OPEN)
        return replace(self, phase=Phase.RETRACTING, error=error, error_code=code)

    def retracted_now(self) -> Submission:
        self._need(Phase.RETRACTING, Phase.OPEN)
        return replace(self, phase=Phase.RETRACTED, retracted=(*self.retracted, self.report_id))

    def restart(self) -> Submission:
        """After a retraction (and a fix): a fresh report for the same key and files."""
        self._need(Phase.RETRACTED)
        return replace(self, phase=Phase.NEW, report_id=None, file_ids=(),
                       files=tuple(FileProgress(f.key) for f in self.files))

    def reconcile_report_id(self, report_id: str) -> Submission:
        """NCMEC confirmed that the lost /submit opened ``report_id``: continue with it."""
        self._need(Phase.SUBMITTING, Phase.UNCERTAIN)
        if not report_id.strip():
            raise InvalidInput("a report id is required")
        return replace(self, phase=Phase.OPEN, report_id=report_id, error=None, error_code=None)

    def confirm_not_opened(self) -> Submission:
        """NCMEC confirmed that the lost /submit opened no report: submit again."""
        self._need(Phase.SUBMITTING, Phase.UNCERTAIN)
        return replace(self, phase=Phase.NEW, error=None, error_code=None)

    # --- persistence ---

    def to_json(self) -> dict:
        return {"format": FORMAT, "key": self.key, "phase": self.phase.value, "report_id": self.report_id,
                "files": [{"key": f.key, "file_id": f.file_id, "md5": f.md5, "info_sent": f.info_sent}
                          for f in self.files],
                "retracted": list(self.retracted), "file_ids": list(self.file_ids),
                "finished_at": format_time(self.finished_at) if self.finished_at else None,
                "error": self.error, "error_code": self.error_code}

    @classmethod
    def from_json(cls, data: dict) -> Submission:
        try:
            if data["format"] != FORMAT:
                raise InvalidInput(f"not a {FORMAT} record")
            files = tuple(FileProgress(str(f["key"]), f["file_id"], f["md5"], bool(f["info_sent"]))
                          for f in data["files"])
            state = cls(str(data["key"]), Phase(data["phase"]), files, data["report_id"],
                        tuple(data["retracted"]), tuple(data["file_ids"]),
                        parse_time(data["finished_at"], "finished_at") if data["finished_at"] else None,
                        data["error"], data["error_code"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a submission record: {exc}") from None
        if state.to_json() != data:
            raise InvalidInput("submission record is not canonical")
        return state
