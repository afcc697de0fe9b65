"""The upload routes under the decode memory budget: 413 when an upload alone would exceed it,
503 with Retry-After while others hold it; REMPART_DECODE_MEMORY sets it."""

from __future__ import annotations

import pytest

from rempart.config import DEFAULT_DECODE_MEMORY, Settings
from rempart.demo.hostile import grey_png
from rempart.errors import InvalidConfig
from rempart.signals import MemoryBudget
from tests.api.conftest import auth
from tests.factories import image_bytes

MIB = 1 << 20


@pytest.fixture
def small_budget(runtime) -> MemoryBudget:
    runtime.decode_budget = MemoryBudget(64 * MIB, wait_seconds=0.1)
    return runtime.decode_budget


def test_uploads_wait_for_decode_memory_then_get_503_with_retry_after(client, tokens,
                                                                      small_budget):
    scan = auth(tokens["platform"])
    curator = auth(tokens["curator"])
    client.post("/v1/banks", json={"name": "confirmed"}, headers=curator)
    upload = {"file": ("a.jpg", image_bytes(1))}
    with small_budget.reserve(60 * MIB):  # other uploads hold the budget
        for path, headers in (("/v1/scan", scan), ("/v1/banks/confirmed/media", curator)):
            r = client.post(path, files=upload, headers=headers)
            assert r.status_code == 503 and r.json()["type"] == "overloaded", r.text
            assert int(r.headers["retry-after"]) >= 1
    assert client.post("/v1/scan", files=upload, headers=scan).status_code == 200
    assert small_budget.in_use == 0


def test_an_upload_costing_more_than_the_whole_budget_is_413(client, tokens, small_budget):
    r = client.post("/v1/scan", files={"file": ("a.png", grey_png(4000, 4000))},
                    headers=auth(tokens["platform"]))
    assert r.status_code == 413 and r.json()["limit"] == "memory"
    assert small_budget.peak == 0  # refused from the header, before any pixel


@pytest.mark.parametrize("text, expected", [
    ("1073741824", 1 << 30), ("1G", 1 << 30), ("1GiB", 1 << 30), ("768MiB", 768 * MIB),
    ("512m", 512 * MIB), ("64 MB", 64 * MIB), ("2048K", 2 * MIB),
])
def test_decode_memory_setting(text, expected):
    assert Settings.from_env({"REMPART_DECODE_MEMORY": text}).decode_memory == expected


def test_decode_memory_default_and_bad_values():
    assert Settings.from_env({}).decode_memory == DEFAULT_DECODE_MEMORY == 1 << 30
    for bad in ("0", "-1", "lots", "1T", "1.5G"):
        with pytest.raises(InvalidConfig, match="REMPART_DECODE_MEMORY"):
            Settings.from_env({"REMPART_DECODE_MEMORY": bad})
