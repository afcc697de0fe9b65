"""Errors of the legal desk's pure core, all children of ``rempart.errors`` types.

    InvalidInput                  (rempart.errors) malformed input: safe to show
    +-- OrderFormatError          an order that does not parse (``errors``: [(field, message)])
    +-- OrderNotExecutable        identifiers or scope the platform's data refuse (``errors``)
    +-- AttachmentTooLarge        an attachment past ``[legal] max_attachment_bytes`` (413)
    +-- PackageError              a disclosure package that cannot be written as asked
    +-- VerificationError         (rempart.transparency) a signature or proof that does not check
        +-- PackageProblem        a package that fails verification (``problem``, ``details``)
    Conflict                      (rempart.errors) the state forbids the change
    +-- ClockEventRejected        an event the order's legal clock cannot accept (``index``)
    RempartError                  (rempart.errors)
    +-- CyberTiplineError         a CyberTipline exchange failed (``code``: NCMEC responseCode)
        +-- CyberTiplineUnavailable   network failure, timeout or 5xx: resume later
        +-- CyberTiplineAuthError     NCMEC refused the credentials (2xxx/3xxx): fix, then resume
        +-- CyberTiplineRejected      NCMEC refused the content (4xxx/5xxx): the report was retracted
        +-- SubmissionUncertain       a /submit whose outcome is unknown: reconcile before anything

CyberTipline errors are not "safe to show" through the HTTP API (they concern the platform's own
outbound channel); the desk shows them to the legal team from the stored submission state.
"""

from __future__ import annotations

from rempart.errors import Conflict, InvalidInput, RempartError
from rempart.transparency.errors import VerificationError


class OrderFormatError(InvalidInput):
    """An order failed to parse or validate. ``errors`` lists every (field path, message);
    nothing was accepted."""

    type = "invalid-order"
    status = 422

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        shown = "; ".join(f"{field}: {msg}" for field, msg in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{len(errors)} error(s) in the order: {shown}{more}")
        self.errors = errors


class OrderNotExecutable(InvalidInput):
    """An order that parses but that the platform's data refuse (an unknown account, a time
    range outside what is held, a scope broader than the authority may order); ``errors``
    lists every (field path, message); nothing was created."""

    type = "order-not-executable"
    status = 422

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        shown = "; ".join(f"{field}: {msg}" for field, msg in errors[:10])
        super().__init__(f"{len(errors)} problem(s) with the order's identifiers or scope: {shown}")
        self.errors = errors


class AttachmentTooLarge(InvalidInput):
    """An order's attachment is larger than the desk accepts; nothing was created."""

    type = "attachment-too-large"
    status = 413


class PackageError(InvalidInput):
    """A disclosure package cannot be written as asked (bad name, limit, existing path)."""

    type = "package-error"


class PackageProblem(VerificationError):
    """A package failed verification. ``problem`` is a stable code (``altered-file``,
    ``added-file``, ``removed-file``, ``bad-signature``, ``wrong-key``, ``manifest-mismatch``,
    ``non-canonical-manifest``, ``unsafe-container``, ``missing-file``); ``details`` says where."""

    type = "package-invalid"

    def __init__(self, problem: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.details = details or {}


class ClockEventRejected(Conflict):
    """An event the legal clock cannot accept in its state; ``index`` is its place in the list."""

    type = "clock-event-rejected"

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"event {index}: {message}")
        self.index = index


class CyberTiplineError(RempartError):
    """A CyberTipline exchange failed; ``code`` is NCMEC's responseCode when it sent one."""

    type = "cybertipline-error"
    status = 502

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class CyberTiplineUnavailable(CyberTiplineError):
    """Network failure, timeout or server error after the retries: resume later."""

    type = "cybertipline-unavailable"


class CyberTiplineAuthError(CyberTiplineError):
    """NCMEC refused the credentials or the account's authorisation."""

    type = "cybertipline-auth"


class CyberTiplineRejected(CyberTiplineError):
    """NCMEC refused the report or a file: the open report was retracted (see the state)."""

    type = "cybertipline-rejected"


class SubmissionUncertain(CyberTiplineError):
    """A /submit was sent and its answer lost: a report may or may not have been opened.

    Nothing is sent again automatically (that could file a second report). A person reconciles
    it (``rempart.legal.cybertipline.reconcile``, the desk's **Reconcile**) from what NCMEC says.
    """

    type = "cybertipline-uncertain"
