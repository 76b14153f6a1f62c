"""Operations: JSON logs with request ids, Prometheus metrics, health and readiness.

``init_app(app)`` wires it all into one app: the request hooks (``requests.py``), the routes
``/healthz``, ``/readyz`` and ``/metrics``, and the metrics listening to the business events.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, jsonify

from app.observability import health, operations
from app.observability.logs import configure_logging
from app.observability.metrics import exposition, metrics
from app.observability.requests import init_requests


def init_app(app: Flask) -> None:
    configure_logging(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "json"))
    metrics()  # listen to the business events from the start
    init_requests(app)

    @app.get("/healthz")
    def healthz():
        """Liveness: the process answers."""
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        """Readiness: database, migrations, Redis, policy tables, job queue."""
        results = health.readiness(current_app.extensions["sbf"])
        failing = {name: why for name, why in results.items() if why}
        checks = {name: ("ok" if not why else "failing") for name, why in results.items()}
        if failing:
            return jsonify({"code": "not_ready", "status": 503, "message": "服务未就绪：" + "、".join(failing),
                            "errors": failing, "checks": checks}), 503
        return jsonify({"status": "ready", "checks": checks})

    @app.get("/metrics")
    def prometheus_metrics():
        """Prometheus text exposition."""
        container = current_app.extensions["sbf"]
        body = exposition(lambda: operations.figures(container))
        return Response(body, content_type="text/plain; version=0.0.4; charset=utf-8")
