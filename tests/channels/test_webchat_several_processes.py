"""The widget with several Rasa processes: an operator's reply sent by one
process reaches the citizen whose socket lives in another, through Redis.

Two processes run the project's socket.io channel (Rasa-less Sanic apps) on
free ports with handoff.delivery's /deliver path, like two Rasa pods; a
real redis-server joins them. Without REDIS_URL (`make run`, one process)
each server keeps to itself, as before.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests

from hotline.ops.ports import free_port
from fakes.widget_citizen import WidgetCitizen
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]

# One "Rasa pod": the webchat channel and the operator-reply route. argv: port.
SERVER = textwrap.dedent('''
    import sys
    from sanic import Sanic, response
    from connectors.webchat.channel import SocketIOInput
    from handoff.delivery import deliver

    port = int(sys.argv[1])
    channel = SocketIOInput.from_credentials({"user_message_evt": "user_uttered",
                                              "bot_message_evt": "bot_uttered", "session_persistence": True})
    app = Sanic(f"webchat_{port}")

    async def on_new_message(message):
        await message.output_channel.send_text_message(message.sender_id, "эхо: " + message.text)

    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/socketio")
    app.ctx.input_channels = [channel]

    @app.post("/deliver")
    async def operator_reply(request):
        how = await deliver("socketio", request.json["conversation_id"], request.json["text"], app=request.app)
        return response.json({"how": how})

    app.run(host="127.0.0.1", port=port, access_log=False, motd=False)
''')


class Pod:
    def __init__(self, env: Dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(self.port)], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode(errors="replace")[-2000:])
            try:
                if requests.get(f"{self.url}/webhooks/socketio/", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the socket.io server did not start"
            time.sleep(0.2)

    def operator_says(self, conversation_id: str, text: str) -> str:
        reply = requests.post(f"{self.url}/deliver", json={"conversation_id": conversation_id, "text": text},
                              timeout=10)
        reply.raise_for_status()
        return reply.json()["how"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _texts(citizen: WidgetCitizen, wanted: str, wait: float) -> List[str]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not any(r.get("text") == wanted for r in citizen.received):
        time.sleep(0.05)
    time.sleep(0.3)  # and nothing more comes after it
    return [r.get("text", "") for r in citizen.received]


def _env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return {**env, "WEBCHAT_SECRET": "several-processes-test-secret", **extra}


@pytest.fixture
def pods_with_redis(tmp_path) -> Iterator[List[Pod]]:
    redis = RedisServer(tmp_path / "redis").start()
    pods: List[Pod] = []
    try:
        pods += [Pod(_env(REDIS_URL=f"{redis.url}/2")), Pod(_env(REDIS_URL=f"{redis.url}/2"))]
        yield pods
    finally:
        for pod in pods:
            pod.stop()
        redis.stop()


def test_operator_reply_sent_by_one_process_reaches_the_socket_on_another(pods_with_redis):
    a, b = pods_with_redis
    citizen = WidgetCitizen(f"{b.url}")  # the citizen's socket lives in process B
    neighbour = WidgetCitizen(f"{a.url}")  # another citizen, in process A
    try:
        citizen.say("здравствуйте")
        assert _texts(citizen, "эхо: здравствуйте", 10) == ["эхо: здравствуйте"]

        assert a.operator_says(citizen.session_id, "Оператор Анна: чем помочь?") == "pushed"
        assert _texts(citizen, "Оператор Анна: чем помочь?", 10) == ["эхо: здравствуйте",
                                                                       "Оператор Анна: чем помочь?"]
        # Delivered in its own process exactly once (not again through Redis),
        # and only to the conversation it was meant for.
        assert a.operator_says(neighbour.session_id, "Оператор Олег: слушаю") == "pushed"
        assert _texts(neighbour, "Оператор Олег: слушаю", 10) == ["Оператор Олег: слушаю"]
        assert "Оператор Олег: слушаю" not in [r.get("text") for r in citizen.received]
    finally:
        citizen.close()
        neighbour.close()


def test_without_redis_each_process_serves_only_its_own_sockets():
    a, b = Pod(_env()), Pod(_env())
    citizen = None
    try:
        citizen = WidgetCitizen(f"{b.url}")
        assert b.operator_says(citizen.session_id, "Оператор: в этом же процессе") == "pushed"
        assert _texts(citizen, "Оператор: в этом же процессе", 10) == ["Оператор: в этом же процессе"]
        a.operator_says(citizen.session_id, "Оператор: из другого процесса")
        assert _texts(citizen, "Оператор: из другого процесса", 2) == ["Оператор: в этом же процессе"]
    finally:
        if citizen is not None:
            citizen.close()
        a.stop()
        b.stop()
