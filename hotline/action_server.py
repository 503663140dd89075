"""The action server of every profile (`make run`, `make run-prod`, the cluster).

``python -m hotline.action_server --port 5055`` runs rasa-sdk's own Sanic
app (``rasa_sdk.endpoint.create_app``, the same executor and ``/webhook`` as
``python -m rasa_sdk``) with four changes:

* ``GET /ops/health`` checks the status store (hotline.ops.health) and
  ``GET /ops/metrics`` serves Prometheus metrics: calls, latency and errors
  per action (rasa-sdk's ``/health`` stays, nginx uses it);
* JSON log lines without personal data (hotline.ops.jsonlog);
* rasa-sdk answers an exception with ``{"error": ..., "request_body": <the
  whole tracker>}``, i.e. the citizen's messages; here the 500 body names
  the exception class only;
* binds to loopback (``--host``, default 127.0.0.1), one worker.
"""
from __future__ import annotations

import argparse
import logging
import time
from typing import Any, Optional, Sequence

from hotline import settings

logger = logging.getLogger(__name__)


def create_app(actions_package: str = "actions") -> Any:
    from rasa_sdk.endpoint import create_app as sdk_create_app
    from sanic import response

    from hotline.ops import metrics
    from hotline.ops.health import action_server_health

    app = sdk_create_app(actions_package, cors_origins=None)

    @app.get("/ops/health")
    async def ops_health(_: Any) -> Any:
        status, body = await action_server_health()
        return response.json(body, status=status)

    @app.get("/ops/metrics")
    async def ops_metrics(_: Any) -> Any:
        return response.raw(metrics.render(), content_type=metrics.CONTENT_TYPE)

    @app.middleware("request")
    async def started(request: Any) -> None:
        request.ctx.started = time.perf_counter()

    @app.middleware("response")
    async def finished(request: Any, reply: Any) -> None:
        if request.path != "/webhook":
            return
        try:
            action = metrics._label((request.json or {}).get("next_action"))
        except Exception:  # compressed or broken body
            action = "unknown"
        metrics.ACTION_REQUESTS.labels(action, str(reply.status)).inc()
        metrics.ACTION_LATENCY.labels(action).observe(time.perf_counter() - request.ctx.started)

    @app.exception(Exception)
    async def failed(request: Any, exception: Exception) -> Any:
        logger.error("action call failed: %s", type(exception).__name__, exc_info=exception)
        return response.json({"error": type(exception).__name__}, status=500)

    return app


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Hotline action server")
    parser.add_argument("--port", type=int, default=settings.get("ACTION_PORT"))
    parser.add_argument("--host", default=settings.get("ACTION_HOST"))
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)

    from hotline.ops import jsonlog

    jsonlog.configure(service="actions")
    app = create_app(args.actions)
    logger.info("action server listening on %s:%d", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
