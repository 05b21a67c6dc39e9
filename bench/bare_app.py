"""The baseline server: a bare endpoint on the daemon's server stack (no engine, no store).

Same stack as ``vm-system serve`` (vmsystem/cli/serve.py): FastAPI on uvicorn with the same
``uvicorn.Config`` (``loop="auto"``/``http="auto"``, i.e. uvloop + httptools, no access log,
no server header) and the same response style (``orjson.dumps`` into a ``Response``).
``POST /bare`` reads the JSON body the REPL route would get and answers a small JSON object.

Run: ``python -m bench.bare_app --listen 127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

__all__ = ["create_bare_app", "main"]


def create_bare_app() -> FastAPI:
    """The bare FastAPI app: ``POST /bare`` and ``GET /health``."""
    app = FastAPI(title="bench-bare")

    @app.post("/bare")
    async def bare(request: Request) -> Response:
        body = orjson.loads(await request.body())
        return Response(
            orjson.dumps({"ok": True, "session_id": body.get("session_id"), "value": 2}),
            201,
            media_type="application/json",
        )

    @app.get("/health")
    async def health() -> Response:
        return Response(orjson.dumps({"status": "ok"}), media_type="application/json")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:3299")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")

    import uvicorn

    config = uvicorn.Config(
        create_bare_app(),
        host=host,
        port=int(port),
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="auto",
        http="auto",
        timeout_graceful_shutdown=3,
        server_header=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
