"""The CI guard: a skipped test fails the run when CI=true, and only then."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_runs():
    pass

@pytest.mark.skip(reason="a missing service")
def test_skipped():
    pass
"""


@pytest.mark.parametrize("ci,code", [("true", 1), ("", 0)])
def test_a_skip_fails_the_run_only_in_ci(pytester, monkeypatch, ci, code):
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest("-p", "tests.no_skips", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == code
    if code:
        result.stdout.fnmatch_lines(["*skipped tests fail the run in CI*",
                                     "*test_skipped*a missing service*"])


def test_no_skip_passes_in_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile("def test_runs():\n    pass\n")
    assert pytester.runpytest("-p", "tests.no_skips", "-p", "no:cacheprovider").ret == 0
