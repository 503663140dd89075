"""The web chat widget in real headless Chromium, against the real Rasa server.

The main test clicks through a conversation the way a citizen would (keyboard
to open, typing, a quick-reply button, a reload, the accessibility switches,
a cut network line) and checks that the same scripted conversation gets the
same answers over REST. A second browser test feeds the widget hostile and
rich bot messages through a mocked socket.io server. Screenshots go to
tests/artifacts/webchat-*.png.

Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and the `playwright`
Python package; no `playwright install`.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

from connectors.webchat.serve import STATIC, serve_in_thread
from hotline.ops.local_servers import LocalServers, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
CHANNEL = "connectors.webchat.channel.SocketIOInput"
SOCKETIO = {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
HOST = "hotline-webchat"          # the widget's host element; CSS locators pierce its open shadow root
HISTORY_KEY = "hotline-webchat:history"
SESSION_KEY = "hotline-webchat:session"
LOST = "Связь потеряна, переподключаемся…"
RESTORED = "Связь восстановлена"

# greeting, a button press, an FAQ and a service question: the conversation
# every channel must answer alike (issue 4, item 4).
SCENARIO = [
    ("type", "здравствуйте"),
    ("button", "Об услугах"),
    ("type", "как работает онлайн-чат"),
    ("type", "какие документы нужны для загранпаспорта"),
]


# ----------------------------------------------------------------- helpers

class DroppableProxy:
    """TCP forwarder between the browser and Rasa that can cut the line.

    ``drop()`` closes every open connection and stops listening (so reconnect
    attempts are refused, as with a dead network); ``restore()`` listens again
    on the same port.
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._conns: set = set()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def drop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            except OSError:
                pass
            listener.close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def response_variants(domain: Dict[str, Any]) -> Dict[str, List[re.Pattern]]:
    """Response name -> one regex per variation text ({slot} matches anything)."""
    out: Dict[str, List[re.Pattern]] = {}
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = (variant.get("text") or "").strip()
            if not text:
                continue
            parts = re.split(r"\{[A-Za-z_][A-Za-z0-9_]*\}", text)
            pattern = ".+?".join(re.escape(p) for p in parts)
            out.setdefault(name, []).append(re.compile(rf"^{pattern}$", re.S))
    return out


def general_service_answer(domain: Dict[str, Any]) -> Dict[str, Any]:
    """utter_service_info for a text channel when no service was named."""
    for variant in domain["responses"]["utter_service_info"]:
        condition = variant.get("condition") or []
        if variant.get("channel") is None and any(
                c.get("name") == "service_name" and c.get("value") is None for c in condition):
            return variant
    raise AssertionError("domain.yml has no general utter_service_info")


def responses_matching(text: str, variants: Dict[str, List[re.Pattern]]) -> set:
    return {name for name, patterns in variants.items() if any(p.match(text.strip()) for p in patterns)}


def history(page) -> List[Dict[str, Any]]:
    return json.loads(page.evaluate(f"() => localStorage.getItem('{HISTORY_KEY}')") or "[]")


def wait_turn(page, before: int, timeout: float = 40.0, quiet: float = 1.2) -> List[Dict[str, Any]]:
    """Records added after index ``before``, once the bot answered and went quiet."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        records = history(page)[before:]
        if len(records) != seen:
            seen, since = len(records), time.monotonic()
        elif any(r["from"] == "bot" for r in records) and time.monotonic() - since >= quiet:
            return records
        page.wait_for_timeout(100)
    raise AssertionError(f"no bot answer within {timeout} s; records: {history(page)[before:]}")


def shadow_focus(page) -> str:
    """Description of the focused element inside the widget ('' if focus is elsewhere)."""
    return page.evaluate(
        """() => {
            const host = document.querySelector('hotline-webchat');
            if (document.activeElement !== host) return '';
            const el = host.shadowRoot.activeElement;
            return el ? el.tagName.toLowerCase() + '.' + el.className : '';
        }"""
    )


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"webchat-{name}.png"))


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def rasa_socketio(trained_model: Path, tmp_path_factory) -> Iterator[LocalServers]:
    """Rasa with the REST and socket.io channels (and the action server)."""
    from hotline.status import init_db
    from hotline.status.demo import load_demo

    workdir = tmp_path_factory.mktemp("webchat")
    credentials = workdir / "credentials.yml"
    credentials.write_text(yaml.safe_dump({"connectors.rest.RestInput": None, CHANNEL: SOCKETIO}))
    database_url = f"sqlite:///{workdir / 'status.db'}"
    init_db(database_url)
    load_demo(database_url)
    # The demo page's port is known before Rasa starts: its origin is the one allowed.
    demo_port = free_port()
    servers = LocalServers(workdir, trained_model, credentials=credentials, extra_env={
        "DATABASE_URL": database_url, "WEBCHAT_ALLOWED_ORIGINS": f"http://127.0.0.1:{demo_port}"})
    servers.demo_port = demo_port
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def proxy(rasa_socketio: LocalServers) -> Iterator[DroppableProxy]:
    line = DroppableProxy(rasa_socketio.rasa_port)
    yield line
    line.drop()


@pytest.fixture(scope="module")
def demo_url(proxy: DroppableProxy, rasa_socketio: LocalServers) -> Iterator[str]:
    server = serve_in_thread(rasa_socketio.demo_port, rasa_url=f"http://127.0.0.1:{proxy.port}")
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (or set $CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ru-RU")
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page_errors() -> List[str]:
    """Uncaught script errors and console errors of the page."""
    return []


@pytest.fixture
def page(context, page_errors):
    tab = context.new_page()
    tab.on("pageerror", lambda error: page_errors.append(f"uncaught: {error}"))
    tab.on("console", lambda msg: page_errors.append(msg.text) if msg.type == "error" else None)
    return tab


def unexpected(errors: List[str], *allowed: str) -> List[str]:
    return [e for e in errors if not any(a in e for a in allowed)]


# ------------------------------------------------------------------- tests

@pytest.mark.slow
@pytest.mark.timeout(600)
def test_citizen_conversation_in_chromium(page, context, demo_url, proxy, rasa_socketio, domain_yaml,
                                          page_errors):
    from playwright.sync_api import expect

    widget = page.locator(HOST)
    launcher = widget.locator(".launcher")
    panel = widget.locator("[role=dialog]")
    log = widget.locator("[role=log]")
    field = widget.locator("textarea")

    page.goto(demo_url)
    expect(launcher).to_have_text(re.compile("Чат с помощником"))
    expect(panel).to_be_hidden()

    # Keyboard only: Tab through the portal page to the launcher, Enter opens.
    for _ in range(40):
        page.keyboard.press("Tab")
        if shadow_focus(page).startswith("button.launcher"):
            break
    else:
        pytest.fail("Tab never reached the chat launcher")
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    assert shadow_focus(page).startswith("textarea"), "focus must move into the message field"

    # ARIA: a labelled dialog, a polite live log, a labelled field, named buttons.
    expect(panel).to_have_attribute("aria-labelledby", "hw-title")
    expect(widget.locator("#hw-title")).to_have_text("Помощник горячей линии")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(field).to_have_attribute("placeholder", "Введите сообщение")
    expect(field).to_have_attribute("aria-label", re.compile(r"\S"))
    expect(widget.locator("button.send")).to_have_text("Отправить")
    expect(widget.locator("button.close")).to_have_attribute("aria-label", "Закрыть чат")
    expect(widget.locator(".status")).to_have_text("На связи")

    # -- the scripted conversation, recorded turn by turn
    widget_turns: List[List[Dict[str, Any]]] = []
    page.keyboard.type("здравствуйте")
    page.keyboard.press("Enter")
    expect(widget.locator(".msg.user").last).to_have_text(re.compile("здравствуйте"))
    widget_turns.append([r for r in wait_turn(page, 1) if r["from"] == "bot"])
    greeting = widget.locator(".msg.bot").last
    expect(greeting).to_contain_text(re.compile("Здравствуйте|Добрый день"))
    replies = greeting.locator(".replies button")
    expect(replies).to_have_count(6)
    expect(greeting.locator(".replies")).to_have_attribute("role", "group")
    screenshot(page, "greeting")

    before = len(history(page))
    replies.filter(has_text="Об услугах").click()
    expect(widget.locator(".msg.user").last).to_have_text(re.compile("^Вы: Об услугах$"))
    expect(widget.locator(".replies")).to_have_count(0)   # answered quick replies go away
    assert shadow_focus(page).startswith("textarea")
    widget_turns.append([r for r in wait_turn(page, before) if r["from"] == "bot"])
    service = widget.locator(".msg.bot").last
    general = general_service_answer(domain_yaml)
    expect(service).to_contain_text(general["text"].splitlines()[0])
    bullets = [line for line in general["text"].splitlines() if line.startswith("• ")]
    assert bullets, "the general service answer lists what the operator tells"
    expect(service.locator("ul > li")).to_have_count(len(bullets))  # «• » lines are a real list
    expect(service.locator("ul > li").first).to_have_text(bullets[0][2:])
    for button in general["buttons"]:
        expect(service.locator(".replies button", has_text=button["title"])).to_have_count(1)

    # the online-chat FAQ, recognised by its first sentence in domain.yml
    chat_faq = domain_yaml["responses"]["utter_faq/online_chat"][0]["text"].split(".")[0]
    for text in ("как работает онлайн-чат", "какие документы нужны для загранпаспорта"):
        before = len(history(page))
        field.fill(text)
        page.keyboard.press("Enter")
        widget_turns.append([r for r in wait_turn(page, before) if r["from"] == "bot"])
    expect(widget.locator(".msg.bot", has_text=chat_faq)).to_have_count(1)
    assert "загранпаспорт" in widget_turns[3][-1]["text"].lower()
    screenshot(page, "conversation")

    # -- the same conversation over REST gets the same answers (issue 4, item 4)
    variants = response_variants(domain_yaml)
    rest_turns: List[List[Dict[str, Any]]] = []
    for kind, value in SCENARIO:
        if kind == "button":
            value = next(b["payload"] for r in rest_turns[-1] for b in r.get("buttons", []) if b["title"] == value)
        rest_turns.append(rasa_socketio.send("webchat-rest-twin", value))
    for (kind, value), rest, web in zip(SCENARIO, rest_turns, widget_turns):
        rest_texts = [r["text"] for r in rest if r.get("text")]
        web_texts = [r["text"] for r in web if r.get("text")]
        assert len(rest_texts) == len(web_texts), (value, rest_texts, web_texts)
        for rest_text, web_text in zip(rest_texts, web_texts):
            if rest_text.strip() != web_text.strip():
                same = responses_matching(rest_text, variants) & responses_matching(web_text, variants)
                assert same, f"{value!r}: REST and widget answers differ:\n{rest_text}\n---\n{web_text}"
        rest_buttons = [(b["title"], b["payload"]) for r in rest for b in r.get("buttons", [])]
        web_buttons = [(b["title"], b.get("payload", b.get("url"))) for r in web for b in r.get("buttons", [])]
        assert rest_buttons == web_buttons, value

    # -- reload: the visible history and the server-side session both survive
    session_id = page.evaluate(f"() => localStorage.getItem('{SESSION_KEY}')")
    assert re.fullmatch(r"web_[0-9a-f]{32}", session_id)
    shown = widget.locator(".msg").count()
    page.reload()
    expect(panel).to_be_visible()                       # it was open: stays open
    expect(widget.locator(".msg")).to_have_count(shown)
    expect(widget.locator(".msg.bot", has_text=chat_faq)).to_have_count(1)
    expect(widget.locator(".status")).to_have_text("На связи")
    assert page.evaluate(f"() => localStorage.getItem('{SESSION_KEY}')") == session_id
    before = len(history(page))
    field.fill("спасибо")
    page.keyboard.press("Enter")
    wait_turn(page, before)
    tracker = rasa_socketio.tracker(session_id)
    said = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert said[0] == "здравствуйте" and said[-1] == "спасибо", said

    # -- larger font and high contrast, by keyboard, persisted across a reload
    large = widget.locator("button.opt", has_text="Крупный шрифт")
    contrast = widget.locator("button.opt", has_text="Высокий контраст")
    root = widget.locator(".root")
    size_before = root.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    large.focus()
    page.keyboard.press("Space")
    contrast.focus()
    page.keyboard.press("Enter")
    expect(large).to_have_attribute("aria-pressed", "true")
    expect(contrast).to_have_attribute("aria-pressed", "true")
    assert root.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= size_before * 1.2
    assert panel.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(0, 0, 0)"
    page.reload()
    expect(widget.locator(".root.large.contrast")).to_have_count(1)
    expect(large).to_have_attribute("aria-pressed", "true")
    screenshot(page, "accessibility")
    contrast.click()
    large.click()
    expect(widget.locator(".root.contrast")).to_have_count(0)

    # -- Escape closes and gives focus back to the launcher; Enter reopens
    field.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_visible()
    assert shadow_focus(page).startswith("button.launcher")
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()

    # -- the line to the server is cut: the citizen is told, a message typed
    #    meanwhile waits, and goes out once the connection is back
    proxy.drop()
    expect(log.locator(".notice", has_text=LOST)).to_have_count(1, timeout=15_000)
    expect(widget.locator(".status")).to_have_text(re.compile("Нет связи"))
    before = len(history(page))
    field.fill("как записаться в МФЦ")
    page.keyboard.press("Enter")
    expect(log.locator(".notice", has_text="будет отправлено, когда связь восстановится")).to_have_count(1)
    expect(widget.locator(".typing")).to_be_hidden()   # nobody is typing: the message has not left
    page.wait_for_timeout(1500)
    assert [r["from"] for r in history(page)[before:]] == ["user"]  # nothing can arrive yet
    screenshot(page, "connection-lost")
    proxy.restore()
    expect(log.locator(".notice", has_text=RESTORED)).to_have_count(1, timeout=20_000)
    assert wait_turn(page, before)[-1]["from"] == "bot"   # the queued message was answered
    expect(widget.locator(".status")).to_have_text("На связи")
    screenshot(page, "reconnected")

    # -- the browser itself goes offline and back
    context.set_offline(True)
    expect(log.locator(".notice", has_text=LOST)).to_have_count(2, timeout=15_000)
    context.set_offline(False)
    expect(log.locator(".notice", has_text=RESTORED)).to_have_count(2, timeout=20_000)

    # -- "Очистить": history and session gone, a fresh conversation
    widget.locator("button.clear").click()
    expect(widget.locator(".msg")).to_have_count(0)
    expect(widget.locator(".status")).to_have_text("На связи")
    assert page.evaluate(f"() => localStorage.getItem('{SESSION_KEY}')") not in (None, session_id)

    # Failed reconnection attempts while the line was down are logged by Chromium itself.
    assert not unexpected(page_errors, "WebSocket connection to", "net::ERR_"), page_errors
    logs = rasa_socketio.logs()
    assert "never awaited" not in logs and "Traceback" not in logs


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_bot_messages_render_safely(page, page_errors):
    """Hostile and rich bot messages, from a mocked socket.io server (Engine.IO 4 frames)."""
    from playwright.sync_api import expect

    server = serve_in_thread(0, rasa_url="http://mock-rasa.test")
    static = f"http://127.0.0.1:{server.server_address[1]}"
    sockets: List[Any] = []
    received: List[Any] = []

    def on_socket(ws) -> None:
        sockets.append(ws)

        def on_message(frame) -> None:
            if frame == "40":
                ws.send('40{"sid":"mock-namespace-sid"}')
            elif frame.startswith("42"):
                event = json.loads(frame[2:])
                received.append(event)
                if event[0] == "session_request":
                    ws.send('42["session_confirm",{"session_id":"mocksession0001","token":"mock-token"}]')

        ws.on_message(on_message)
        ws.send('0{"sid":"mock-sid","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')

    try:
        page.route_web_socket(re.compile(r"^ws://mock-rasa\.test/socket\.io/"), on_socket)
        page.goto(static + "/")
        widget = page.locator(HOST)
        widget.locator(".launcher").click()
        expect(widget.locator(".status")).to_have_text("На связи")
        widget.locator("textarea").fill("привет")
        page.keyboard.press("Enter")
        typing = widget.locator(".typing")
        expect(typing).to_be_visible()
        expect(typing).to_have_text(re.compile("Помощник печатает"))
        assert ["user_uttered", {"message": "привет", "session_id": "mocksession0001"}] in received

        def bot(message: Dict[str, Any]) -> None:
            sockets[-1].send("42" + json.dumps(["bot_uttered", message], ensure_ascii=False))

        bot({
            "text": '<img src=x onerror="window.__xss=1">Привет!\nвторая строка\n'
                    "• первый пункт (см. https://example.org/path).\n"
                    "• второй <b>пункт</b>\n"
                    "строка два\n\nновый абзац javascript:alert(1)",
            "quick_replies": [{"content_type": "text", "title": "Да <script>", "payload": "/affirm"}],
        })
        bubble = widget.locator(".msg.bot .bubble").last
        expect(typing).to_be_hidden()
        expect(bubble.locator("ul > li")).to_have_count(2)
        expect(bubble.locator("a")).to_have_count(1)
        expect(bubble.locator("a")).to_have_attribute("href", "https://example.org/path")
        expect(bubble.locator("a")).to_have_attribute("rel", "noopener noreferrer")
        expect(bubble.locator("img, b, script")).to_have_count(0)
        expect(bubble).to_contain_text('<img src=x onerror="window.__xss=1">Привет!')
        expect(bubble).to_contain_text("второй <b>пункт</b>")
        # line breaks kept; a list splits paragraphs, so does a blank line
        expect(bubble.locator("p")).to_have_count(3)
        expect(bubble.locator("p").first.locator("br")).to_have_count(1)
        expect(bubble.locator("p").nth(1)).to_have_text("строка два")
        bot({"attachment": {"type": "image", "payload": {"src": "javascript:alert(1)"}}})
        bot({"attachment": {"type": "image", "payload": {"src": static + "/vendor/picture.png"}}})
        bot({"text": "Портал", "buttons": [{"title": "Открыть портал", "payload": "https://www.gosuslugi.ru"}]})
        expect(widget.locator(".msg.bot")).to_have_count(3)   # the javascript: image was dropped
        expect(widget.locator(".msg.bot img")).to_have_attribute("src", static + "/vendor/picture.png")
        expect(widget.locator(".msg.bot .links a")).to_have_text(re.compile("Открыть портал"))
        assert page.evaluate("() => window.__xss") is None

        widget.locator(".reply", has_text="Да <script>").click()
        expect(widget.locator(".msg.user").last).to_have_text("Вы: Да <script>")
        page.wait_for_timeout(300)
        assert received[-1] == ["user_uttered", {"message": "/affirm", "session_id": "mocksession0001"}]

        # The server hangs up: the widget says so and reconnects by itself.
        sockets[-1].close()
        expect(widget.locator(".notice", has_text=LOST)).to_have_count(1)
        expect(widget.locator(".notice", has_text=RESTORED)).to_have_count(1, timeout=15_000)
        assert len(sockets) >= 2
        # The token the server confirmed the session with goes back with the request.
        assert received[-1] == ["session_request", {"session_id": "mocksession0001", "token": "mock-token"}]
        screenshot(page, "rendering")
        page.set_viewport_size({"width": 390, "height": 760})   # a phone: the chat fills the screen
        assert widget.locator("[role=dialog]").evaluate("el => el.getBoundingClientRect().width") == 390
        screenshot(page, "mobile")
    finally:
        server.shutdown()
        server.server_close()
    # the picture is a deliberate 404
    assert not unexpected(page_errors, "status of 404"), page_errors


def test_demo_server_serves_the_widget_and_nothing_else():
    server = serve_in_thread(0, rasa_url="https://bot.example.ru")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path in ("/", "/demo.html"):
            with urllib.request.urlopen(base + path) as reply:
                page = reply.read().decode()
                assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
            assert 'data-server="https://bot.example.ru"' in page
            assert len(re.findall(r"<script\b", page)) == 1   # the whole integration
        with urllib.request.urlopen(base + "/widget.js") as reply:
            assert reply.headers["Content-Type"] == "text/javascript; charset=utf-8"
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
        with urllib.request.urlopen(base + "/vendor/socket.io.min.js") as reply:
            assert b"Socket.IO v4." in reply.read(200)
        for path in ("/vendor/", "/../serve.py", "/%2e%2e/serve.py", "/nope.js"):
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(base + path)
            assert error.value.code == 404, path
    finally:
        server.shutdown()
        server.server_close()


def test_widget_source_never_builds_html_from_strings():
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    assert (STATIC / "vendor" / "socket.io-client.LICENSE").read_text().startswith("The MIT License")


def test_channel_issues_sessions_joins_their_rooms_and_checks_origins(monkeypatch):
    """The server picks the session and signs it; a proposed id or a forged token gets a fresh one.
    (enter_room is a coroutine in python-socketio >= 5.10: RasaHQ/rasa#13027.)"""
    from connectors.webchat.channel import SocketIOInput

    monkeypatch.setenv("WEBCHAT_SECRET", "unit-test-webchat-secret")
    channel = SocketIOInput.from_credentials({**SOCKETIO, "allowed_origins": ["https://www.example.ru/"]})

    async def on_new_message(message):  # pragma: no cover - not called here
        return None

    channel.blueprint(on_new_message)
    sio = channel.sio
    calls: List[Any] = []

    async def enter_room(sid, room, namespace=None):
        calls.append(("enter", sid, room))

    async def leave_room(sid, room, namespace=None):
        calls.append(("leave", sid, room))

    async def emit(event, data=None, room=None, namespace=None, **_):
        calls.append(("emit", event, data, room))

    sio.enter_room, sio.leave_room, sio.emit = enter_room, leave_room, emit
    handler = sio.handlers["/"]["session_request"]
    connect = sio.handlers["/"]["connect"]
    allowed: List[bool] = []

    async def requests_from_four_sockets():
        allowed.append(await connect("sid-0", {"HTTP_ORIGIN": "https://evil.example"}, None))
        allowed.append(await connect("sid-0", {}, None))
        allowed.append(await connect("sid-1", {"HTTP_ORIGIN": "https://www.example.ru"}, None))
        await handler("sid-1", {"session_id": "telegram_42"})
        confirmed = calls[-1][2]
        await handler("sid-2", {"token": confirmed["token"]})   # a reload: the same conversation
        signature = confirmed["token"].split(".")[1]
        forged = confirmed["session_id"] + "." + ("1" if signature[0] == "0" else "0") + signature[1:]
        await handler("sid-3", {"session_id": confirmed["session_id"], "token": forged})
        await handler("sid-4", None)

    # A thread of its own: Playwright's sync API may hold this thread's event loop.
    worker = threading.Thread(target=asyncio.run, args=(requests_from_four_sockets(),))
    worker.start()
    worker.join(30)
    assert allowed == [False, False, True]
    entered = {sid: room for kind, sid, room in [c for c in calls if c[0] == "enter"]}
    confirms = {c[3]: c[2] for c in calls if c[0] == "emit" and c[1] == "session_confirm"}
    first = entered["sid-1"]
    assert re.fullmatch(r"web_[0-9a-f]{32}", first) and confirms["sid-1"]["session_id"] == first
    assert entered["sid-2"] == first and confirms["sid-2"]["session_id"] == first
    assert entered["sid-3"] not in (first, "telegram_42") and entered["sid-4"] not in (first, entered["sid-3"])
    assert channel.sessions == entered
