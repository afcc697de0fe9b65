"""The ``rempart`` command line. Every command honours REMPART_HOME and REMPART_DATABASE_URL.

The one place where imports sit inside functions: a command imports the domain packages it
needs (SQLAlchemy, numpy, Pillow, FastAPI) in its body, so ``rempart --help`` and a typo load
typer alone (about 0.2 s instead of 1.4 s). ``tests/test_architecture.py`` allows it here only.
"""

from __future__ import annotations

from rempart.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
