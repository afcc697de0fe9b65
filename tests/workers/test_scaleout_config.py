"""``REMPART_NATS_URL`` and ``[scaleout]``: read by Settings, bad values refused by name."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rempart.cli.app import app
from rempart.config import ScaleOutConfig, Settings
from rempart.errors import InvalidConfig


def test_scale_out_settings(tmp_path):
    s = Settings.from_env({"REMPART_HOME": str(tmp_path)})
    assert s.nats_url is None and s.scaleout == ScaleOutConfig()
    (tmp_path / "rempart.toml").write_text(
        "[scaleout]\nmax_pending = 5\nsync_timeout_seconds = 2.5\nack_wait_seconds = 4\n")
    s = Settings.from_env({"REMPART_HOME": str(tmp_path), "REMPART_NATS_URL": "nats://10.0.0.1:4222"})
    assert s.nats_url == "nats://10.0.0.1:4222"
    assert s.scaleout == ScaleOutConfig(max_pending=5, sync_timeout=2.5, ack_wait=4.0)


@pytest.mark.parametrize("url", ["http://x:1", "nats://", "127.0.0.1:4222", "nats://h:1 x"])
def test_a_bad_nats_url_is_refused(tmp_path, url):
    with pytest.raises(InvalidConfig, match="REMPART_NATS_URL"):
        Settings.from_env({"REMPART_HOME": str(tmp_path), "REMPART_NATS_URL": url})


@pytest.mark.parametrize("line", ["max_pending = 0", "ack_wait_seconds = -1", "other = 1",
                                  "max_pending = 'many'"])
def test_bad_scaleout_values_are_refused(tmp_path, line):
    (tmp_path / "rempart.toml").write_text(f"[scaleout]\n{line}\n")
    with pytest.raises(InvalidConfig, match="scaleout"):
        Settings.from_env({"REMPART_HOME": str(tmp_path)})


def test_a_worker_without_nats_says_what_is_missing(cli_env):
    r = CliRunner().invoke(app, ["worker"])
    assert r.exit_code == 1 and "REMPART_NATS_URL" in r.output
