from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2 with the smallest parameters (tests create many users)."""
    from argon2 import PasswordHasher

    from rempart.people import credentials

    monkeypatch.setattr(credentials, "_hasher", PasswordHasher(time_cost=1, memory_cost=8,
                                                               parallelism=1))
