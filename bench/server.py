"""The service as the benchmark serves it: ``gunicorn 'bench.server:create()'`` (and ``flask --app``).

Production settings (``SBF_SETTINGS=production``: every URL and key from ``SBF_*`` variables) and
the sandbox gateways on loopback, which production itself refuses: the bench loads the
production settings without those refusals (``refuse=False``), every other check applies.
The dict settings this needs — the gateways' addresses (ports chosen per run) and the counter
bank's key — come from ``BENCH_DICT_SETTINGS`` as JSON.
"""
from __future__ import annotations

import json
import os


def create():
    """The app factory gunicorn calls once per worker."""
    from app.factory import create_app
    from config.settings import load_settings

    values = load_settings("production", refuse=False)
    for key, value in json.loads(os.environ.get("BENCH_DICT_SETTINGS") or "{}").items():
        if not isinstance(values.get(key), dict):
            raise ValueError(f"{key} is not a dict setting")
        values[key] = value
    return create_app(values)
