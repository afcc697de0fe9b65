"""The API fixtures (a checked client, one token per scope) for the scale-out tests."""

from tests.api.conftest import client, tokens  # noqa: F401
