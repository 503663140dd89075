"""Rasa's calls to the action server reuse one kept-alive connection."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from hotline.rasa import http_pool


async def _calls_and_connections(calls: int, **endpoint_kwargs):
    client_ports = set()
    seen_headers = []

    async def webhook(request: web.Request) -> web.Response:
        client_ports.add(request.transport.get_extra_info("peername")[1])
        seen_headers.append(request.headers.get("X-Hotline"))
        body = await request.json()
        return web.json_response({"events": [], "responses": [{"text": f"ответ {body['n']}"}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Hotline": "1"}, **endpoint_kwargs)
        replies = [await endpoint.request(json={"n": n}, method="post") for n in range(calls)]
        # Concurrent calls of one endpoint share the pool too.
        replies += await asyncio.gather(*(endpoint.request(json={"n": n}, method="post") for n in range(3)))
    finally:
        await http_pool.close_all()
        await runner.cleanup()
    return replies, client_ports, seen_headers


def _rasa_own_session(monkeypatch):
    # Another test may have installed the hooks already (the tracker store
    # does): start from Rasa's own method; monkeypatch restores afterwards.
    monkeypatch.setattr(EndpointConfig, "session",
                        getattr(EndpointConfig.session, "__wrapped__", EndpointConfig.session))


@pytest.fixture
def pooled(monkeypatch):
    monkeypatch.delenv("HOTLINE_POOLED_HTTP", raising=False)
    _rasa_own_session(monkeypatch)
    assert http_pool.install()


def test_sequential_calls_share_one_connection(pooled):
    replies, ports, headers = asyncio.run(_calls_and_connections(5))
    assert [r["responses"][0]["text"] for r in replies[:5]] == [f"ответ {n}" for n in range(5)]
    assert len(replies) == 8
    assert len(ports) <= 3  # the three concurrent calls may each need a connection
    assert headers == ["1"] * 8  # the endpoint's headers still go with every call


def test_rasa_opens_a_connection_per_call_without_the_pool(monkeypatch):
    # What the hook is for (and HOTLINE_POOLED_HTTP=0 gives back).
    monkeypatch.setenv("HOTLINE_POOLED_HTTP", "0")
    _rasa_own_session(monkeypatch)
    assert not http_pool.install()
    _, ports, _ = asyncio.run(_calls_and_connections(5))
    assert len(ports) == 8
