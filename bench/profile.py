"""``--profile``: sample the gunicorn workers with py-spy during a load phase, and say where time goes.

Each worker gets a ``py-spy record --gil --format raw`` (collapsed stacks of the thread holding
the interpreter lock) for the phase; the stacks are then summed into the functions where the
samples sit (self) and those under which they sit (total, each function counted once per stack),
both as shares of all samples: where the workers' Python CPU goes. Time spent waiting for
PostgreSQL, Redis or the gateway holds no lock and is not in these shares.
"""
from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@contextmanager
def sampled(pids: list[int], directory: Path, phase: str, into: dict):
    """Record ``pids`` while the block runs; put the summary in ``into[phase]``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    directory.mkdir(parents=True, exist_ok=True)
    outputs = [directory / f"{phase}-{pid}.txt" for pid in pids]
    recorders = [subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--gil",
                                   "--full-filenames", "--nonblocking", "-o", str(out)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for pid, out in zip(pids, outputs)]
    try:
        yield
    finally:
        for r in recorders:
            r.send_signal(signal.SIGINT)
        for r in recorders:
            try:
                r.wait(timeout=30)
            except subprocess.TimeoutExpired:
                r.kill()
        into[phase] = summarize([o for o in outputs if o.exists()])


ROOT = Path(__file__).resolve().parent.parent

# The full pay flow's steps, each as the function (``name (dir/module.py)`` as ``_short`` writes it)
# under which its time sits; a step's share counts every sample with that function on the stack.
FLOW_STEPS = (
    ("identification (blind index, decryption)", "Identifications.post (api/payer.py)"),
    ("declaration", "Declarations.post (api/payer.py)"),
    ("order, all of it", "Orders.post (api/orders.py)"),
    ("  of which the prepay round trip (RSA sign + verify)", "WeChatPayProvider.prepay (wechatpay/provider.py)"),
    ("  of which the durable provider calls (prepay and first query)", "record_calls (services/provider_calls.py)"),
    ("notification, all of it", "notify (api/orders.py)"),
    ("  of which verification and decryption", "WeChatPayProvider.parse_notification (wechatpay/provider.py)"),
    ("  of which posting", "_post (services/settlement.py)"),
)


def summarize(files: list[Path], top: int = 25) -> dict:
    own, total, ours, samples = collections.Counter(), collections.Counter(), collections.Counter(), 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = [f for f in stack.split(";") if f]
            if not frames:
                continue
            samples += n
            own[_short(frames[-1])] += n
            for frame in {_short(f) for f in frames}:
                total[frame] += n
            for frame in {_short(f) for f in frames if _ours(f)}:
                ours[frame] += n
    share = lambda c: [(name, round(100 * n / samples, 1)) for name, n in c.most_common(top)]  # noqa: E731
    steps = [(step, round(100 * ours[function] / samples, 1) if samples else 0.0) for step, function in FLOW_STEPS]
    return {"samples": samples, "self_percent": share(own), "total_percent": share(total),
            "project_total_percent": share(ours), "steps_percent": steps}


def _ours(frame: str) -> bool:
    """A frame of the project's own code (not a library's); py-spy writes paths under the cwd relative."""
    path = frame.partition(" (")[2].rstrip(")").rsplit(":", 1)[0]
    if not path or path.startswith("<"):
        return False
    full = Path(path) if Path(path).is_absolute() else ROOT / path
    return ROOT in full.parents and not {".venv", "site-packages"} & set(full.parts)


def _short(frame: str) -> str:
    """``function (path/to/module.py:123)`` → ``function (to/module.py)``: lines would split one function."""
    name, _, where = frame.partition(" (")
    module = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(module).parts
    keep = "/".join(parts[-2:]) if len(parts) > 1 else module
    return f"{name} ({keep})"


def render(profiles: dict, top: int = 15) -> str:
    lines = []
    for phase, summary in profiles.items():
        lines.append(f"\nwhere the workers' busy time goes — {phase} ({summary['samples']} samples)")
        lines.append("  self%  function")
        lines += [f"  {pct:5.1f}  {name}" for name, pct in summary["self_percent"][:top]]
        lines.append("  total%  function of the project (time spent in it and below)")
        lines += [f"  {pct:6.1f}  {name}" for name, pct in summary["project_total_percent"][:top]]
        if phase == "full pay flow":
            lines.append("  total%  step of the full pay flow")
            lines += [f"  {pct:6.1f}  {step}" for step, pct in summary.get("steps_percent", [])]
    return "\n".join(lines)
