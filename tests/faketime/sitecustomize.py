"""Loaded only by the shifted-date test run (`.ci/run` puts this folder on PYTHONPATH under faketime).

libfaketime 0.9.10 (Debian 12) with FAKETIME_DONT_FAKE_MONOTONIC=1 breaks `clock_nanosleep(CLOCK_MONOTONIC,
TIMER_ABSTIME)`, which Python 3.11's `time.sleep` uses: every sleep fails with EINVAL (libfaketime issue 426).
The monotonic clock must stay real, or every thread's timed wait hangs. So in that run only, `time.sleep` waits
with `select()`, whose timeout is relative and untouched by libfaketime.

libfaketime also calls getenv() from whatever thread asks the time, while tests change variables with
monkeypatch (setenv in C): the two race and the process can segfault. In this run only, changing
`os.environ` changes Python's mapping (which the code and the tests read, and which every child process of
the tests is given explicitly) but not the C environment.
"""

import os
import select
import time

if os.environ.get("FAKETIME") and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
    os.putenv = lambda key, value: None  # os.environ's __setitem__ and __delitem__ call these globals
    os.unsetenv = lambda key: None
