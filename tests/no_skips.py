"""A pytest plugin: under CI (``CI=true``) a skipped test fails the run.

Every test must run in CI, on SQLite and on PostgreSQL: a skip there means a missing service,
tool or file, which would otherwise pass unnoticed. Locally, skips are only reported (``-rs``).
"""

from __future__ import annotations

import os

import pytest

#: node ids allowed to skip in CI, each with the reason it cannot run there (none today)
ALLOWED: dict[str, str] = {}


class NoSkips:
    def __init__(self) -> None:
        self.skipped: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail") and report.nodeid not in ALLOWED:
            longrepr = report.longrepr
            self.skipped.append((report.nodeid, longrepr[2] if isinstance(longrepr, tuple)
                                 else str(longrepr)))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.skipped and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.skipped:
            terminalreporter.section("skipped tests fail the run in CI", red=True)
            for nodeid, reason in self.skipped:
                terminalreporter.line(f"{nodeid}: {reason}")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI", "").lower() == "true":
        config.pluginmanager.register(NoSkips(), "rempart-no-skips")
