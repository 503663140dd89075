"""Operator replies reach only their ticket's owner (issue 11, item 4).

Against `make run` (trust_stack.py): the REST pickup of operators' messages
needs the token the REST client got when its ticket opened, gives only that
ticket's messages, never a Telegram conversation's, and long polls are
capped per conversation and per process with a short wait.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional

import pytest
import requests

from trust_stack import PICKUP_MAX_POLLS, embedded_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(trained_model):
    return embedded_run(trained_model)


def _open_ticket(run, sender: str) -> Dict[str, Any]:
    """A REST citizen asks for an operator; the pickup details come with the confirmation."""
    run.rest(sender, "позовите оператора")
    answers = run.rest(sender, "не приходит смс с кодом при входе")
    pickups = [a["custom"]["handoff_pickup"] for a in answers if isinstance(a.get("custom"), dict)
               and "handoff_pickup" in a["custom"]]
    assert len(pickups) == 1, answers
    assert any("передано оператору" in (a.get("text") or "") for a in answers), answers
    return pickups[0]


def _operator_says(run, conversation_id: str, text: str) -> int:
    from handoff import repository as repo

    ticket = repo.open_ticket_for(conversation_id, url=run.database_url)
    repo.add_message(ticket.id, "operator", text, "console", url=run.database_url)
    return ticket.id


def _pull(run, path: str, token: Optional[str] = None, wait: float = 0, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{run.url}{path}", params={"wait": wait, **params}, headers=headers, timeout=wait + 30)


def test_pickup_needs_the_tickets_token(run):
    pickup = _open_ticket(run, "pickup-owner")
    assert pickup["url"] == "/webhooks/handoff/rest/rest_pickup-owner/messages"
    _operator_says(run, "rest_pickup-owner", "Здравствуйте! Проверьте номер телефона в профиле.")
    other = _open_ticket(run, "pickup-stranger")

    assert _pull(run, pickup["url"]).status_code == 403                      # no token
    assert _pull(run, pickup["url"], token="1.deadbeef").status_code == 403  # a guess
    assert _pull(run, pickup["url"], token=other["token"]).status_code == 403  # another ticket's token
    in_url = requests.get(f"{run.url}{pickup['url']}", params={"token": pickup["token"]}, timeout=30)
    assert in_url.status_code == 403                                          # never in the URL
    owner = _pull(run, pickup["url"], token=pickup["token"])
    assert owner.status_code == 200
    assert [m["text"] for m in owner.json()["messages"]] == ["Здравствуйте! Проверьте номер телефона в профиле."]
    assert _pull(run, other["url"], token=other["token"]).json()["messages"] == []


def test_pickup_never_serves_other_channels_conversations(run):
    from handoff import repository as repo

    ticket, _ = repo.create_ticket("telegram_700000020", "telegram", "request", "", "вопрос о пособии",
                                   url=run.database_url)
    repo.add_message(ticket.id, "operator", "Ваше пособие назначено", "console", url=run.database_url)
    path = "/webhooks/handoff/rest/telegram_700000020/messages"
    answers = [_pull(run, path), _pull(run, path, token=f"{ticket.id}.00")]
    assert [a.status_code for a in answers] == [403, 403]
    assert not any("пособие" in a.text for a in answers)


def test_long_polls_are_capped_and_short(run):
    pickups = [_open_ticket(run, f"pickup-poll-{i}") for i in range(3)]
    started = time.monotonic()
    results: List[Any] = []

    def poll(pickup: Dict[str, Any]) -> None:
        results.append(_pull(run, pickup["url"], token=pickup["token"], wait=60, after=10 ** 9).status_code)

    # Two polls of one conversation are allowed; a third is refused at once.
    threads = [threading.Thread(target=poll, args=(pickups[0],)) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    third = _pull(run, pickups[0]["url"], token=pickups[0]["token"], wait=5, after=10 ** 9)
    assert third.status_code == 429 and third.headers.get("Retry-After")
    # The process-wide cap (PICKUP_MAX_POLLS) counts every conversation.
    more = [threading.Thread(target=poll, args=(pickups[1],)) for _ in range(PICKUP_MAX_POLLS - 2)]
    for t in more:
        t.start()
    time.sleep(1.5)
    over = _pull(run, pickups[2]["url"], token=pickups[2]["token"], wait=5, after=10 ** 9)
    assert over.status_code == 429
    for t in threads + more:
        t.join(40)
    # Asked for 60 s, each poll was held at most ~10 s.
    assert results == [200] * PICKUP_MAX_POLLS
    assert time.monotonic() - started < 30
    # Slots are given back: the conversation can poll again.
    assert _pull(run, pickups[2]["url"], token=pickups[2]["token"]).status_code == 200
