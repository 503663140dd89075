"""A tracker database with realistic conversations for the workbench's inbox.

Written through Rasa's own SQLTrackerStore (turn by turn, conversations
interleaved the way a running server saves them), so the rows are exactly
Rasa's format. The plain store is used on purpose: it keeps what citizens
typed unmasked (a store from before the masking store, or a misconfigured
deployment), which is the worst case the inbox's masking must survive.

    seed_tracker("sqlite:////tmp/tracker.db")        # tests, browser journey
    python -m fakes.tracker_seed sqlite:////tmp/tracker.db

What it contains is described by the module constants, so tests assert
against them instead of repeating texts: MISUNDERSTOOD (the turns the inbox
must list, with their reasons), PERSONAL_DATA (strings that must never be
shown), LABELLABLE (three misunderstood messages and the label a trainer
would give, none of them a near-copy of training or held-out data).
"""
from __future__ import annotations

import asyncio
import copy
import datetime as dt
import functools
import sys
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy.engine import make_url

from hotline.paths import ROOT

# The "now" of the module-scoped seeded tracker (tests/workbench/conftest.py),
# for tests that count days back from it.
SEEDED_AT = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
FALLBACK_THRESHOLD = 0.45  # config.yml's FallbackClassifier; what Rasa records

# Everything below is personal data a citizen typed; none of it may reach
# the workbench's pages, logs or written files.
NAME_1 = "Петров Сергей Иванович"
NAME_2 = "Иванова Мария Петровна"
NAME_3 = "Смирнова"
BIRTH_1 = "12.03.1985"
BIRTH_2 = "5 июня 1979"
SNILS_1 = "112-233-445 95"
PHONE_1 = "+7 912 345-67-89"
PHONE_2 = "89261234567"
APPLICATION_1 = "1234567890"
APPLICATION_2 = "AB-987654321"
PERSONAL_DATA = (NAME_1, NAME_2, NAME_3, "Петров", "Сергей", "Иванович", "Иванова", "Мария", "Петровна",
                 BIRTH_1, BIRTH_2, "1985", "1979", SNILS_1, "445 95", PHONE_1, "345-67-89", PHONE_2,
                 APPLICATION_1, APPLICATION_2, "987654321")

# Near-identical messages from three channels: one group of three in the inbox.
GROUPED = ("Как оплатить госпошлину со скидкой через приложение?",
           "как оплатить госпошлину со скидкой через приложение",
           "КАК ОПЛАТИТЬ ГОСПОШЛИНУ СО СКИДКОЙ ЧЕРЕЗ ПРИЛОЖЕНИЕ!!!")
# Misunderstood messages a trainer labels in the browser journey (text as
# the inbox shows it, the label to choose). Checked against the training and
# held-out data by tests/workbench/test_inbox_seed.py.
LABELLABLE: Tuple[Tuple[str, str], ...] = (
    ("как оплатить госпошлину со скидкой через приложение", "ask_service_info"),
    ("куда подевался мой аккаунт не пускает после обновления", "ask_login_help"),
    ("сосед звонил представился сотрудником соцзащиты и просил продиктовать цифры из смс", "report_fraud"),
)


@dataclass(frozen=True)
class Expected:
    """One user turn the inbox must list."""
    conversation_id: str
    text: str  # as typed (may hold personal data: never compare it to a page)
    reasons: frozenset
    intent: str
    days_ago: float
    whole_masked: bool = False


@dataclass
class _Turn:
    """What happens after one user message: the parse, then the bot's actions."""
    text: str
    intent: str
    confidence: float
    ranking: Sequence[Tuple[str, float]] = ()
    bot: Sequence[str] = ("utter_fallback",)
    form: Optional[str] = None            # a form that becomes active after the message
    ask: Optional[str] = None             # the slot the bot asks for next
    close_form: bool = False


@dataclass
class _Conversation:
    sender_id: str
    days_ago: float
    turns: List[_Turn] = field(default_factory=list)


def _fallback(text: str, *ranking: Tuple[str, float], bot=("utter_fallback",), **kw) -> _Turn:
    return _Turn(text, "nlu_fallback", FALLBACK_THRESHOLD, ranking, bot, **kw)


def _ok(text: str, intent: str, confidence: float = 0.93, bot=("utter_default",), **kw) -> _Turn:
    second = "out_of_scope" if intent != "out_of_scope" else "greet"
    return _Turn(text, intent, confidence, ((intent, confidence), (second, round(1 - confidence, 3) / 2)), bot, **kw)


def conversations() -> List[_Conversation]:
    return [
        # Fallback, then the citizen asks for a human.
        _Conversation("telegram_1001", 1.0, [
            _ok("здравствуйте", "greet", 0.98, bot=("utter_greet",)),
            _fallback("а справку о несудимости через мфц можно получить побыстрее",
                      ("book_mfc_visit", 0.31), ("ask_service_info", 0.2)),
            _ok("соедините с оператором", "request_operator", 0.97, bot=("utter_ask_handoff_summary",),
                form="handoff_form", ask="handoff_summary"),
        ]),
        # Ambiguous (top two within the ambiguity threshold).
        _Conversation("vk_2002", 2.0, [
            _fallback("не могу войти и заявление не отправляется",
                      ("ask_login_help", 0.48), ("report_tech_issue", 0.46)),
        ]),
        # Low confidence recorded without the fallback (a turn from an older
        # configuration with a lower threshold).
        _Conversation("max_3003", 3.0, [
            _Turn("куда подевался мой аккаунт не пускает после обновления", "ask_login_help", 0.38,
                  (("ask_login_help", 0.38), ("report_tech_issue", 0.2)), ("utter_ask_login_help",)),
            _ok("спасибо", "thank", 0.99, bot=("utter_thank",)),
        ]),
        # A confident but wrong answer: the citizen repeats the question.
        _Conversation("phone_7f3c", 1.5, [
            _ok("как получить справку о несудимости для работы", "ask_service_info", 0.71),
            _ok("Как получить справку о несудимости для работы?", "ask_service_info", 0.74),
        ]),
        # The status check: the form asks for the number, the name and the date
        # of birth; the answers to the personal questions are misread.
        _Conversation("web_5a1b", 0.5, [
            _ok("статус заявления", "check_application_status", 0.95, bot=("utter_ask_application_number",),
                form="application_status_form", ask="application_number"),
            _ok(APPLICATION_1, "inform", 0.9, bot=("utter_ask_full_name",), ask="full_name"),
            _Turn(NAME_1, "nlu_fallback", FALLBACK_THRESHOLD, (("inform", 0.33), ("greet", 0.2)),
                  ("utter_ask_birth_date",), ask="birth_date"),
            _Turn(f"родилась я {BIRTH_2} года", "nlu_fallback", FALLBACK_THRESHOLD,
                  (("inform", 0.4), ("ask_service_info", 0.1)), ("utter_status_in_progress",), close_form=True),
        ]),
        # Personal data in free text, where nobody asked for it.
        _Conversation("rest_8c2d", 0.25, [
            _fallback(f"меня зовут {NAME_2} снилс {SNILS_1} телефон {PHONE_1} по заявлению {APPLICATION_2} "
                      f"ничего не происходит", ("check_application_status", 0.41), ("leave_feedback", 0.2)),
            _fallback(f"моя фамилия {NAME_3} дата рождения {BIRTH_1} помогите",
                      ("inform", 0.3), ("check_application_status", 0.25)),
        ]),
        # The handoff form asks for a call-back number; the reply is misread.
        _Conversation("telegram_1002", 0.75, [
            _ok("позовите живого человека", "request_operator", 0.96, bot=("utter_ask_handoff_summary",),
                form="handoff_form", ask="handoff_summary"),
            _ok("не приходит смс с кодом", "ask_login_help", 0.9, bot=("utter_ask_handoff_contact",),
                ask="handoff_contact"),
            _fallback(f"звоните {PHONE_2} после шести", ("inform", 0.2), ("ask_login_help", 0.15),
                      bot=("utter_handoff_queued",), close_form=True),
        ]),
        # One question from three channels, near-identical.
        _Conversation("telegram_1003", 0.3, [_fallback(GROUPED[0], ("ask_service_info", 0.4), ("faq/cost", 0.3))]),
        _Conversation("vk_2003", 1.2, [_fallback(GROUPED[1], ("ask_service_info", 0.39), ("faq/cost", 0.32))]),
        _Conversation("web_5a1c", 2.5, [_fallback(GROUPED[2], ("ask_service_info", 0.42), ("faq/cost", 0.3))]),
        # A fraud report the classifier did not recognise.
        _Conversation("vk_2004", 4.0, [
            _fallback(LABELLABLE[2][0], ("report_fraud", 0.4), ("request_operator", 0.2)),
        ]),
        # Understood conversations: nothing for the inbox.
        _Conversation("telegram_1004", 0.2, [
            _ok("добрый день", "greet", 0.97, bot=("utter_greet",)),
            _ok("какой номер горячей линии", "faq", 0.92, bot=("utter_faq/hotline_number",)),
            _ok("спасибо большое", "thank", 0.99, bot=("utter_thank",)),
        ]),
        _Conversation("web_5a1d", 0.1, [_ok("как записаться в мфц", "book_mfc_visit", 0.95)]),
        # An old misunderstanding, outside a one-week date range.
        _Conversation("telegram_1005", 20.0, [
            _fallback("а можно ли оформить пособие на внука если родители лишены прав",
                      ("ask_service_info", 0.3), ("out_of_scope", 0.25)),
        ]),
    ]


def _reasons(*codes: str) -> frozenset:
    return frozenset(codes)


# The inbox's reason codes (workbench/inbox.py): fallback, low_confidence,
# ambiguous, human_requested, repeated.
MISUNDERSTOOD: Tuple[Expected, ...] = (
    Expected("telegram_1001", "а справку о несудимости через мфц можно получить побыстрее",
             _reasons("fallback", "low_confidence", "human_requested"), "nlu_fallback", 1.0),
    Expected("vk_2002", "не могу войти и заявление не отправляется",
             _reasons("fallback", "ambiguous"), "nlu_fallback", 2.0),
    Expected("max_3003", LABELLABLE[1][0], _reasons("low_confidence"), "ask_login_help", 3.0),
    Expected("phone_7f3c", "как получить справку о несудимости для работы",
             _reasons("repeated"), "ask_service_info", 1.5),
    Expected("web_5a1b", NAME_1, _reasons("fallback", "low_confidence"), "nlu_fallback", 0.5, whole_masked=True),
    Expected("web_5a1b", f"родилась я {BIRTH_2} года", _reasons("fallback", "low_confidence"), "nlu_fallback",
             0.5, whole_masked=True),
    Expected("rest_8c2d", "меня зовут …", _reasons("fallback", "low_confidence"), "nlu_fallback", 0.25),
    Expected("rest_8c2d", "моя фамилия …", _reasons("fallback", "low_confidence"), "nlu_fallback", 0.25),
    Expected("telegram_1002", f"звоните {PHONE_2} после шести", _reasons("fallback", "low_confidence"),
             "nlu_fallback", 0.75, whole_masked=True),
    Expected("telegram_1003", GROUPED[0], _reasons("fallback", "low_confidence"), "nlu_fallback", 0.3),
    Expected("vk_2003", GROUPED[1], _reasons("fallback", "low_confidence"), "nlu_fallback", 1.2),
    Expected("web_5a1c", GROUPED[2], _reasons("fallback", "low_confidence"), "nlu_fallback", 2.5),
    Expected("vk_2004", LABELLABLE[2][0], _reasons("fallback", "low_confidence"), "nlu_fallback", 4.0),
    Expected("telegram_1005", "а можно ли оформить пособие на внука если родители лишены прав",
             _reasons("fallback", "low_confidence"), "nlu_fallback", 20.0),
)


@functools.lru_cache(maxsize=1)
def _responses() -> Dict[str, str]:
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {name: str(variations[0].get("text", "")).strip()
            for name, variations in domain.get("responses", {}).items() if variations}


def _response_text(action: str) -> str:
    """The bot's words as the citizen saw them (the first variation)."""
    return _responses().get(action) or "Понял вас."


def _events_of_turn(turn: _Turn, at: float, state: Dict[str, Optional[str]]) -> list:
    """Rasa's events for one user message and the bot's reaction, as the
    running server records them (timestamps a fraction of a second apart)."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered

    ranking = [{"name": name, "confidence": conf} for name, conf in turn.ranking]
    if turn.intent == "nlu_fallback":
        ranking = [{"name": "nlu_fallback", "confidence": turn.confidence}] + ranking
    parse = {
        "intent": {"name": turn.intent, "confidence": turn.confidence},
        "entities": [],
        "text": turn.text,
        "message_id": uuid.uuid4().hex,
        "metadata": {},
        "intent_ranking": ranking,
    }
    tick = iter(at + i * 0.01 for i in range(100))
    events = [UserUttered(turn.text, parse["intent"], [], parse, timestamp=next(tick),
                          input_channel=state["channel"], message_id=parse["message_id"])]
    if turn.form:
        events += [ActionExecuted(turn.form, policy="RulePolicy", confidence=1.0, timestamp=next(tick)),
                   ActiveLoop(turn.form, timestamp=next(tick))]
        state["form"] = turn.form
    if turn.ask:
        events.append(SlotSet("requested_slot", turn.ask, timestamp=next(tick)))
    for action in turn.bot:
        if not turn.form and not turn.ask or action != turn.bot[0]:
            events.append(ActionExecuted(action, policy="RulePolicy", confidence=1.0, timestamp=next(tick)))
        events.append(BotUttered(_response_text(action), {"elements": None}, {"utter_action": action},
                                 timestamp=next(tick)))
    if turn.close_form:
        events += [SlotSet("requested_slot", None, timestamp=next(tick)),
                   ActiveLoop(None, timestamp=next(tick))]
        state["form"] = None
    events.append(ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0, timestamp=next(tick)))
    return events


def _store(url: str):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    parsed = make_url(url)
    return SQLTrackerStore(
        domain=Domain.empty(), dialect=parsed.get_backend_name(), host=parsed.host, port=parsed.port,
        db=parsed.database, username=parsed.username, password=parsed.password,
        query=dict(parsed.query) or None)


def seed_tracker(url: str, now: Optional[dt.datetime] = None) -> List[Expected]:
    """Write the seeded conversations into the tracker database at `url`
    (created if missing) and return MISUNDERSTOOD. Times are counted back
    from `now` (UTC), so date filters have something to select."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    from rasa.shared.core.domain import Domain

    now = now or dt.datetime.now(dt.timezone.utc)
    base = now.timestamp()
    store = _store(url)
    # The domain's slots (requested_slot included), as the server's trackers have.
    slots = Domain.load(str(ROOT / "domain.yml")).slots
    trackers: Dict[str, DialogueStateTracker] = {}
    # Every (time, sender, turn) of every conversation, saved in time order:
    # the rows of different conversations interleave as on a live server.
    steps = []
    for conversation in conversations():
        start = base - conversation.days_ago * 86400
        for index, turn in enumerate(conversation.turns):
            steps.append((start + index * 40.0, conversation.sender_id, turn))
    steps.sort(key=lambda step: step[0])
    states: Dict[str, Dict[str, Optional[str]]] = {}

    async def run() -> None:
        for at, sender_id, turn in steps:
            tracker = trackers.get(sender_id)
            if tracker is None:
                tracker = trackers[sender_id] = DialogueStateTracker(sender_id, copy.deepcopy(slots))
                for event in (ActionExecuted("action_session_start", timestamp=at - 1),
                              SessionStarted(timestamp=at - 0.9),
                              ActionExecuted("action_listen", timestamp=at - 0.8)):
                    tracker.update(event)
                states[sender_id] = {"channel": sender_id.split("_", 1)[0], "form": None}
            for event in _events_of_turn(turn, at, states[sender_id]):
                tracker.update(event)
            await store.save(tracker)

    asyncio.run(run())
    store.engine.dispose()
    return list(MISUNDERSTOOD)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m fakes.tracker_seed <SQLAlchemy URL of the tracker database>")
    seed_tracker(sys.argv[1])
    print(f"seeded {len(conversations())} conversations, {len(MISUNDERSTOOD)} misunderstood turns")
