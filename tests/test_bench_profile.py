"""The profile's per-step breakdown of the full pay flow, from py-spy's collapsed stacks."""
from __future__ import annotations

from bench import profile, report


def frame(name: str, path: str) -> str:
    return f"{name} ({path}:10)"


def test_each_step_is_the_share_of_samples_with_its_function_on_the_stack(tmp_path):
    handle = frame("handle", "/usr/lib/python3.11/site-packages/gunicorn/workers/gthread.py")
    order = frame("Orders.post", f"{profile.ROOT}/app/api/orders.py")
    prepay = frame("WeChatPayProvider.prepay", f"{profile.ROOT}/payments/wechatpay/provider.py")
    notify = frame("notify", f"{profile.ROOT}/app/api/orders.py")
    post = frame("_post", f"{profile.ROOT}/app/services/settlement.py")
    raw = tmp_path / "flow-1.txt"
    raw.write_text("\n".join([f"{handle};{order};{prepay} 30", f"{handle};{order} 20",
                              f"{handle};{notify};{post} 10", f"{handle};{notify} 15", f"{handle} 25"]) + "\n")
    steps = dict(profile.summarize([raw])["steps_percent"])
    assert steps["order, all of it"] == 50.0
    assert steps["  of which the prepay round trip (RSA sign + verify)"] == 30.0
    assert steps["notification, all of it"] == 25.0
    assert steps["  of which posting"] == 10.0
    assert steps["identification (blind index, decryption)"] == 0.0


def test_the_table_shows_the_steps_under_the_flow_when_profiled():
    results = {"pay_flow": {"per_second": 10.0, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0},
               "profiles": {"full pay flow": {"steps_percent": [("declaration", 9.8)]}}}
    rows = [(f.name, f.value) for f in report.figures(results)]
    assert ("  flow step: declaration", 9.8) in rows
