"""The command line as a shell uses it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import MEMBERS, write_config


def test_output_cut_short_by_a_pipe_is_not_an_error(tmp_path):
    """`veille tokens | head -1`: the reader stops early; veille exits quietly."""
    many = [{"id": f"member-{n}", "name": f"Member {n}"} for n in range(3000)]  # more than a pipe holds
    directory = write_config(tmp_path, [], many)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")} | {
        "VEILLE_SITE_SECRET": "s", "VEILLE_DB": f"sqlite:///{tmp_path / 'v.db'}"}
    # a reader that closes at once: every line veille writes after the first hits a closed pipe
    reader = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE)
    writer = subprocess.run([sys.executable, "-m", "veille", "--config", str(directory), "tokens"],
                            stdout=reader.stdin, stderr=subprocess.PIPE, env=env, timeout=60)
    reader.stdin.close()
    reader.wait(10)
    assert writer.returncode == 0, writer.stderr
    assert b"internal error" not in writer.stderr and b"Broken pipe" not in writer.stderr


def test_tokens_without_secret_exits_2(tmp_path, veille):
    directory = write_config(tmp_path, [], MEMBERS)
    result = veille("--config", directory, "tokens")
    assert result.code == 2 and "VEILLE_SITE_SECRET is not set" in result.err
