"""The ``rempart`` command line. Every command honours REMPART_HOME and REMPART_DATABASE_URL."""

from __future__ import annotations

from rempart.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
