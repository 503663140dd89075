"""No accepted message lost: a channel process that acknowledged a Telegram
update or a VK event and was killed before handling it.

Each process below is the real channel (connectors.telegram / connectors.vk
blueprints on Sanic, as Rasa mounts them) with a stand-in for Rasa's message
handler that writes what reached it to a file. The first process is killed
(SIGKILL, no clean-up) right after its webhook answered; the platform will
never send that update again. Two fresh processes on the same database are
then started at once, as after a restart next to a surviving instance: the
update must be handled exactly once, and a late re-send of it must not be
handled again.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests

from hotline.ops.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
TG_SECRET = "inbox-test-secret"
VK_SECRET = "inbox-vk-secret"

# The channel process: `python -c SERVER <channel> <port> <processed file> <die after ack: 0|1>`.
SERVER = textwrap.dedent('''
    import asyncio, json, os, signal, sys
    from sanic import Sanic

    channel_name, port, processed, die = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"

    async def on_new_message(message):
        if die:
            await asyncio.sleep(0.5)  # the webhook's answer is on its way out
            os.kill(os.getpid(), signal.SIGKILL)
        with open(processed, "a", encoding="utf-8") as f:
            f.write(json.dumps({"sender": message.sender_id, "text": message.text, "pid": os.getpid()}) + "\\n")

    if channel_name == "telegram":
        from connectors.telegram.channel import TelegramInput as Channel
    else:
        from connectors.vk.channel import VKInput as Channel
    channel = Channel.from_credentials(None)
    app = Sanic("inbox_" + channel_name + str(port))
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/" + channel_name)
    app.run(host="127.0.0.1", port=port, access_log=False, motd=False)
''')


class Channel:
    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.workdir = workdir
        self.processed = workdir / "processed.jsonl"
        dead_api = f"http://127.0.0.1:{free_port()}"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'store.db'}",
            "INBOX_LEASE_SECONDS": "2",
            "TELEGRAM_TOKEN": "123456:inbox-test-token", "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "TELEGRAM_API_URL": dead_api,
            "VK_TOKEN": "vk-inbox-test-token", "VK_GROUP_ID": "77", "VK_SECRET": VK_SECRET,
            "VK_CONFIRMATION": "c0nf1rm", "VK_API_URL": dead_api, "VK_MODE": "callback",
        }
        self.procs: List[subprocess.Popen] = []

    def start(self, die: bool = False) -> "tuple[subprocess.Popen, str]":
        port = free_port()
        log = open(self.workdir / f"channel-{len(self.procs)}.log", "w")
        proc = subprocess.Popen([sys.executable, "-c", SERVER, self.name, str(port), str(self.processed),
                                 "1" if die else "0"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}/webhooks/{self.name}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (self.workdir / f"channel-{len(self.procs) - 1}.log").read_text()
            try:
                if requests.get(f"{url}/", timeout=2).status_code == 200:
                    return proc, f"{url}/webhook"
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{self.name} channel did not start")

    def post(self, url: str, update: Dict) -> requests.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET} if self.name == "telegram" else {}
        return requests.post(url, json=update, headers=headers, timeout=30)

    def handled(self) -> List[Dict]:
        if not self.processed.exists():
            return []
        return [json.loads(line) for line in self.processed.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def telegram_update(update_id: int, chat_id: int, text: str) -> Dict:
    return {"update_id": update_id, "message": {
        "message_id": 5, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Гражданин"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Гражданин"}}}


def vk_event(event_id: str, peer_id: int, text: str) -> Dict:
    return {"type": "message_new", "group_id": 77, "event_id": event_id, "v": "5.199", "secret": VK_SECRET,
            "object": {"message": {"id": 9, "date": int(time.time()), "peer_id": peer_id, "from_id": peer_id,
                                   "text": text, "out": 0},
                       "client_info": {"inline_keyboard": True, "keyboard": True}}}


@pytest.fixture(params=["telegram", "vk"])
def channel(request) -> Iterator[Channel]:
    workdir = Path(tempfile.mkdtemp(prefix=f"inbox-{request.param}-"))
    ch = Channel(request.param, workdir)
    yield ch
    ch.stop()


def test_an_update_acknowledged_by_a_killed_process_is_handled_once_after_restart(channel):
    text = "как получить загранпаспорт"
    update = telegram_update(912_000_001, 4242, text) if channel.name == "telegram" else vk_event(
        "e5a1c0ffee", 4242, text)
    doomed, url = channel.start(die=True)
    reply = channel.post(url, update)
    assert reply.status_code == 200  # acknowledged: the platform will not send it again
    assert doomed.wait(timeout=30) == -signal.SIGKILL
    assert channel.handled() == []

    # A restart next to a surviving instance: both sweep the same table.
    (_, url_a), (_, url_b) = channel.start(), channel.start()
    deadline = time.monotonic() + 30
    while not channel.handled() and time.monotonic() < deadline:
        time.sleep(0.2)
    handled = channel.handled()
    assert [h["text"] for h in handled] == [text]
    assert handled[0]["sender"].endswith("4242")

    # The platform's late re-send, to either instance, is recognised.
    for target in (url_a, url_b):
        assert channel.post(target, update).status_code == 200
    time.sleep(5)  # two more lease periods: nothing else may appear
    assert [h["text"] for h in channel.handled()] == [text]


def test_a_new_update_is_handled_at_once_and_only_once(channel):
    _, url = channel.start()
    texts = [f"вопрос номер {i}" for i in range(5)]
    updates = ([telegram_update(913_000_000 + i, 5151, t) for i, t in enumerate(texts)]
               if channel.name == "telegram" else [vk_event(f"ev{i}", 5151, t) for i, t in enumerate(texts)])
    for update in updates + updates:  # each twice, as a platform retrying does
        assert channel.post(url, update).status_code == 200
    deadline = time.monotonic() + 20
    while len(channel.handled()) < len(texts) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    assert sorted(h["text"] for h in channel.handled()) == sorted(texts)
