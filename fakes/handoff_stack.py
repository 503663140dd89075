"""Everything the handoff needs, running for real on one database: the Rasa
server (REST, the widget's socket.io, Telegram and VK channels against the
channels' local fakes, the handoff channel, the event broker), the action
server, and the operators' console. Used by the end-to-end tests and by
bench/handoff_delivery.py."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
import yaml

from fakes.app_thread import AppThread
from fakes.console_client import ConsoleClient
from fakes.waiting import wait_until
from fakes.widget_citizen import WidgetCitizen  # noqa: F401 - the stack's widget citizen
from hotline.ops.local_servers import LocalServers, free_port

PASSWORD = "correct-horse-battery"
SECRET = "e2e-handoff-secret"
TELEGRAM_SECRET = "handoff-e2e-telegram-secret"
VK_GROUP_ID = 218_000_777
VK_TOKEN = "vk1.a.handoff-e2e-token"
VK_SECRET = "handoff-e2e-vk-secret"


class Stack:
    def __init__(self, workdir: Path, model: Path, db_url: str, telegram: Any = None, vk: Any = None) -> None:
        self.workdir, self.model, self.db_url = workdir, model, db_url
        self.telegram, self.vk = telegram, vk  # the channels' fakes (fakes.telegram, fakes.vk), optional
        self.servers: Optional[LocalServers] = None
        self.console: Optional[AppThread] = None
        # The demo page's origin, the one the widget's socket is allowed from.
        self.demo_port = free_port()
        self.origin = f"http://127.0.0.1:{self.demo_port}"

    def start(self) -> "Stack":
        channels: Dict[str, Any] = {
            "connectors.rest.RestInput": None,
            "connectors.webchat.channel.SocketIOInput": {"user_message_evt": "user_uttered",
                                                         "bot_message_evt": "bot_uttered",
                                                         "session_persistence": True},
            "handoff.rasa_channel.HandoffInput": None,
        }
        env = {"DATABASE_URL": self.db_url, "HANDOFF_HOURS": "24/7", "HANDOFF_SECRET": SECRET,
               "WEBCHAT_ALLOWED_ORIGINS": self.origin}
        if self.telegram is not None:
            channels["connectors.telegram.channel.TelegramInput"] = None
            env.update(TELEGRAM_TOKEN=self.telegram.token, TELEGRAM_API_URL=self.telegram.base_url,
                       TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET)
        if self.vk is not None:
            channels["connectors.vk.channel.VKInput"] = None
            env.update(VK_TOKEN=VK_TOKEN, VK_GROUP_ID=str(VK_GROUP_ID), VK_CONFIRMATION="ok-confirm",
                       VK_SECRET=VK_SECRET, VK_API_URL=self.vk.api_url, VK_MODE="callback")
        credentials = self.workdir / "credentials.yml"
        credentials.write_text(yaml.safe_dump(channels))
        # A REST client keeps its pickup tokens across a restart of the servers.
        pickups = dict(self.servers.pickups) if self.servers else {}
        self.servers = LocalServers(self.workdir, self.model, extra_env=env, credentials=credentials,
                                    extra_endpoints={"event_broker": {"type": "handoff.broker.HandoffEventBroker"}})
        self.servers.pickups.update(pickups)
        from handoff.config import Settings
        from handoff.console.app import create_app
        from handoff.rasa_client import RasaApiClient

        settings = Settings.load({**env, "HANDOFF_RASA_URL": self.servers.url, "HANDOFF_WORKER_INTERVAL": "0.1",
                                  "HANDOFF_SECURE_COOKIES": "0", "RASA_API_TOKEN": self.servers.api_key})
        self.console = AppThread(lambda: create_app(settings, self.db_url, rasa=RasaApiClient(settings, secret=SECRET),
                                                    telegram=False))
        return self

    def stop(self) -> None:
        if self.console:
            self.console.stop()
        if self.servers:
            self.servers.stop()

    # --- the operators -----------------------------------------------------------------

    def operator(self, login: str) -> ConsoleClient:
        client = ConsoleClient(self.console.url)
        assert client.login(login, PASSWORD).status_code == 200
        return client

    def ticket_of(self, conversation: str, login: str) -> Dict[str, Any]:
        client = self.operator(login)
        return wait_until(lambda: next((t for t in client.queue()["tickets"]
                                        if t["conversation_id"] == conversation and t["status"] != "closed"), None),
                          what=f"the ticket of {conversation} in the queue")

    # --- the citizens ------------------------------------------------------------------------

    def pull(self, citizen: str, after: int = 0, wait: float = 10) -> List[Dict[str, Any]]:
        """What a REST client fetches with its ticket's token: the operator's (and then the bot's) messages."""
        pickup = self.servers.pickups[citizen]
        reply = requests.get(f"{self.servers.url}{pickup['url']}", params={"after": after, "wait": wait},
                             headers={"Authorization": f"Bearer {pickup['token']}"}, timeout=wait + 10)
        reply.raise_for_status()
        return reply.json()["messages"]

    def tracker(self, conversation: str) -> Dict[str, Any]:
        return requests.get(f"{self.servers.url}/conversations/{conversation}/tracker", auth=self.servers.auth,
                            timeout=30).json()

    def tracker_texts(self, conversation: str) -> List[tuple]:
        return [(e["event"], e.get("text")) for e in self.tracker(conversation)["events"]
                if e["event"] in ("user", "bot")]

    def _wait_turn(self, conversation: str, before: int, timeout: float = 60) -> None:
        """Rasa saves the tracker when a turn is over: the new user event is there."""
        wait_until(lambda: sum(e["event"] == "user" for e in self.tracker(conversation).get("events", [])) > before,
                   timeout=timeout, interval=0.05, what=f"the turn of {conversation}")

    def _users(self, conversation: str) -> int:
        return sum(e["event"] == "user" for e in self.tracker(conversation).get("events", []))

    def telegram_say(self, chat_id: int, text: str) -> List[str]:
        from fakes.telegram import text_update

        conversation = f"telegram_{chat_id}"
        before, mark = self._users(conversation), self.telegram.mark()
        status = self.telegram.deliver(text_update(chat_id, text), secret=TELEGRAM_SECRET,
                                       url=f"{self.servers.url}/webhooks/telegram/webhook")
        assert status == 200
        self._wait_turn(conversation, before)
        return self.telegram.texts_to(chat_id, since=mark)

    def vk_say(self, peer: int, text: str) -> List[str]:
        conversation = f"vk_{peer}"
        before, sent = self._users(conversation), len(self.vk.sent_to(peer))
        reply = self.vk.post_callback(f"{self.servers.url}/webhooks/vk/webhook", self.vk.message_new(peer, text),
                                      VK_SECRET)
        assert reply.status_code == 200
        self._wait_turn(conversation, before)
        return [s.message for s in self.vk.sent_to(peer)[sent:]]
