"""Runs the suite at a faked date without libfaketime's broken timed waits.

``faketime -f '@2027-01-05 10:00:00' make test`` is how we check that nothing depends on today's
date. Under libfaketime's preload, Python's timed waits (``Event.wait(t)``, ``Queue.get(timeout=t)``)
never return, and with its monotonic clock left real ``time.sleep`` fails instead. So when the
preload is present, this interpreter starts again without it and moves its own wall clock to the
faked moment with time-machine (wall clock only: monotonic time, and so every wait, stays real).
Processes the tests start keep the real date; they are given their clock and policy data by the
tests (see tests/timeline.py).
"""
from __future__ import annotations

import os
import sys
import time

_TRAVEL = "SBF_TEST_WALL_CLOCK"


def pytest_configure(config):
    if "faketime" not in os.environ.get("LD_PRELOAD", ""):
        return
    env = {k: v for k, v in os.environ.items() if k not in {"LD_PRELOAD", "FAKETIME"}}
    env[_TRAVEL] = repr(time.time())
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:  # give the new interpreter the real stdout and stderr back
        capture.stop_global_capturing()
    sys.stdout.flush()
    os.execve(sys.executable, sys.orig_argv, env)


if os.environ.get(_TRAVEL):
    import time_machine

    time_machine.travel(float(os.environ[_TRAVEL]), tick=True).start()
