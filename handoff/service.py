"""What operators do to a ticket, whichever workspace they use (the web
console or the Telegram group): read, take, write, close — with the access
rules, the audit log, delivery to the citizen and the bot's pause and resume.

Access rules:
* a waiting ticket may be read by any operator (to decide to take it), with
  personal values masked until one takes it (handoff.preview);
* an assigned or closed ticket only by its operator — and by admins, who
  supervise (read only);
* only the assigned operator writes to and closes a ticket.
Every read, write and refusal is written to the audit log.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from handoff import preview
from handoff import repository as repo
from handoff import texts
from handoff.config import Settings
from handoff.delivery import PULL_CHANNELS
from handoff.hours import Schedule, ScheduleError, schedule_from_settings
from handoff.rasa_client import RasaApiClient, RasaError
from handoff.resumption import operator_talked
from handoff.wait import estimate_wait_seconds, should_tell_again

logger = logging.getLogger(__name__)
RETURN_INTENT = "return_to_bot"
MAX_TEXT = 4000


class Refused(Exception):
    """The operator may not do this; `message` is shown to him."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class DeliveryFailed(Exception):
    pass


@dataclass
class Actor:
    operator: repo.OperatorView
    via: str = "console"
    ip: Optional[str] = None


def transcript_from_tracker(tracker: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The conversation as the operator reads it: citizen, bot (marked), operator,
    and the moments the bot was paused and resumed."""
    items: List[Dict[str, Any]] = []
    for event in tracker.get("events") or []:
        kind = event.get("event")
        at = event.get("timestamp")
        when = dt.datetime.fromtimestamp(at, dt.timezone.utc).isoformat() if isinstance(at, (int, float)) else None
        if kind == "user":
            if (event.get("metadata") or {}).get("is_external"):
                continue
            text = event.get("text") or ""
            items.append({"who": "citizen", "text": text, "at": when, "intent": (
                (event.get("parse_data") or {}).get("intent") or {}).get("name")})
        elif kind == "bot":
            meta = (event.get("metadata") or {}).get("handoff") or {}
            text = event.get("text") or ""
            buttons = [b.get("title") for b in ((event.get("data") or {}).get("buttons") or []) if b.get("title")]
            if meta.get("kind") == "operator":
                items.append({"who": "operator", "name": meta.get("operator_name"), "text": text, "at": when})
            elif meta.get("kind") == "system":
                items.append({"who": "system", "text": text, "at": when})
            else:
                items.append({"who": "bot", "text": text, "at": when, "buttons": buttons,
                              "response": (event.get("metadata") or {}).get("utter_action")})
        elif kind == "pause":
            items.append({"who": "event", "text": "Бот приостановлен: разговор передан оператору", "at": when})
        elif kind == "resume":
            items.append({"who": "event", "text": "Бот снова ведёт разговор", "at": when})
    return items


class HandoffService:
    def __init__(self, settings: Settings, rasa: Optional[RasaApiClient] = None, url: Optional[str] = None) -> None:
        self.settings = settings
        self.rasa = rasa or RasaApiClient(settings)
        self.url = url
        try:
            self.schedule: Optional[Schedule] = schedule_from_settings(settings)
        except ScheduleError as exc:
            logger.error("operators' hours unusable (%s): treated as always open", exc)
            self.schedule = None
        self._cursor: Optional[int] = None
        self._last_notice_round = 0.0
        self._retry_after: Dict[int, float] = {}
        # Telegram workspace and tests subscribe to what happens here.
        self.listeners: List[Callable[[str, Dict[str, Any]], Any]] = []

    async def db(self, func: Callable, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(func, *args, url=self.url, **kwargs)

    async def audit(self, action: str, actor: Optional[Actor], ticket: Optional[repo.TicketView] = None,
                    detail: Optional[str] = None, subject: Optional[str] = None) -> None:
        await self.db(repo.record_audit, action, operator_id=actor.operator.id if actor else None,
                      ticket_id=ticket.id if ticket else None,
                      conversation_id=ticket.conversation_id if ticket else None, detail=detail, subject=subject,
                      ip=actor.ip if actor else None, via=actor.via if actor else "system")

    async def _emit(self, kind: str, payload: Dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                result = listener(kind, payload)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                logger.exception("handoff listener failed on %s", kind)

    # --- access ---------------------------------------------------------------

    @staticmethod
    def can_read(operator: repo.OperatorView, ticket: repo.TicketView) -> bool:
        if ticket.status == "waiting" or operator.is_admin:
            return True
        return ticket.operator_id == operator.id or (ticket.operator_id is None and ticket.status == "closed")

    @staticmethod
    def can_write(operator: repo.OperatorView, ticket: repo.TicketView) -> bool:
        return ticket.status == "assigned" and ticket.operator_id == operator.id

    async def _ticket(self, ticket_id: int, actor: Actor) -> repo.TicketView:
        ticket = await self.db(repo.get_ticket, ticket_id)
        if ticket is None:
            raise Refused(404, "Обращение не найдено", "no such ticket")
        return ticket

    async def read(self, ticket_id: int, actor: Actor, *, with_transcript: bool = True) -> Dict[str, Any]:
        ticket = await self._ticket(ticket_id, actor)
        if not self.can_read(actor.operator, ticket):
            await self.audit("refused", actor, ticket, detail="read: ticket of another operator")
            raise Refused(403, f"Обращение ведёт другой оператор ({ticket.operator_name})", "not yours")
        await self.audit("read", actor, ticket)
        untaken = ticket.status == "waiting"
        result: Dict[str, Any] = {"ticket": preview.masked_ticket(ticket.public()) if untaken else ticket.public(),
                                  "can_write": self.can_write(actor.operator, ticket), "masked": untaken}
        if untaken:
            position, seconds = await self.db(repo.expected_wait, ticket, self.settings.chats_per_operator,
                                              self.settings.default_handling_minutes * 60)
            result["ticket"].update(position=position, expected_wait_seconds=seconds)
        messages = await self.db(repo.ticket_messages, ticket.id)
        result["messages"] = self.visible_messages(ticket, messages)
        result["last_message_id"] = messages[-1].id if messages else 0
        if with_transcript:
            try:
                transcript = transcript_from_tracker(await self.rasa.tracker(ticket.conversation_id))
                result["transcript"] = preview.masked_items(transcript) if untaken else transcript
                result["transcript_error"] = None
            except RasaError as exc:
                result["transcript"] = []
                result["transcript_error"] = f"История разговора недоступна: {exc}"
        return result

    @staticmethod
    def visible_messages(ticket: repo.TicketView, messages: List[repo.MessageView]) -> List[Dict[str, Any]]:
        """The ticket's messages as a reader sees them: masked until someone takes it."""
        items = [m.public() for m in messages]
        return preview.masked_items(items) if ticket.status == "waiting" else items

    # --- take, write, close -------------------------------------------------------

    async def take(self, ticket_id: int, actor: Actor) -> repo.TicketView:
        try:
            ticket = await self.db(repo.take_ticket, ticket_id, actor.operator.id)
        except repo.TakeRefused as refused:
            current = refused.ticket
            if current is None:
                raise Refused(404, "Обращение не найдено", "no such ticket")
            await self.audit("refused", actor, current, detail=f"take: ticket is {current.status}")
            who = f" ({current.operator_name})" if current.operator_name else ""
            raise Refused(409, f"Обращение уже взято{who}" if current.status == "assigned"
                          else "Обращение уже закрыто", "taken")
        await self.audit("take", actor, ticket)
        if ticket.offline:
            # Left outside hours, the bot kept talking; from now on the operator does.
            try:
                await self.rasa.append_events(ticket.conversation_id, [{"event": "pause"}])
            except RasaError as exc:
                logger.warning("could not pause the bot for ticket %s: %s", ticket.id, exc)
        try:
            await self.notify(ticket, texts.operator_joined(actor.operator.display_name))
        except DeliveryFailed:
            pass  # shown in the ticket's messages as not delivered
        await self._emit("taken", {"ticket": ticket, "operator": actor.operator})
        return ticket

    async def send(self, ticket_id: int, actor: Actor, text: str) -> repo.MessageView:
        text = (text or "").strip()
        if not text:
            raise Refused(400, "Пустое сообщение", "empty")
        if len(text) > MAX_TEXT:
            raise Refused(400, f"Сообщение длиннее {MAX_TEXT} символов", "too long")
        ticket = await self._ticket(ticket_id, actor)
        if not self.can_write(actor.operator, ticket):
            await self.audit("refused", actor, ticket, detail=f"write: ticket is {ticket.status}, "
                                                             f"operator {ticket.operator_id}")
            raise Refused(403, "Писать в это обращение может только оператор, который его взял", "not yours")
        message = await self._deliver(ticket, "operator", text, operator=actor.operator, source=actor.via)
        await self.audit("write", actor, ticket, detail=f"{len(text)} символов")
        await self._emit("operator_message", {"ticket": ticket, "message": message, "operator": actor.operator})
        return message

    async def close(self, ticket_id: int, actor: Actor, resolution: str) -> repo.TicketView:
        ticket = await self._ticket(ticket_id, actor)
        if not self.can_write(actor.operator, ticket):
            await self.audit("refused", actor, ticket, detail=f"close: ticket is {ticket.status}")
            raise Refused(403, "Закрыть обращение может только оператор, который его взял", "not yours")
        closed = await self.db(repo.close_ticket, ticket.id, closed_by="operator", resolution=resolution)
        if closed is None:
            raise Refused(409, "Обращение уже закрыто", "closed")
        await self.audit("close", actor, closed, detail=(resolution or "").strip()[:500] or None)
        await self._emit("closed", {"ticket": closed, "operator": actor.operator})
        await self.resume_if_claimed(closed)
        return await self.db(repo.get_ticket, closed.id)

    # --- the citizen's side -----------------------------------------------------------

    async def _deliver(self, ticket: repo.TicketView, direction: str, text: str, *,
                       operator: Optional[repo.OperatorView] = None, source: str = "worker",
                       buttons: Optional[List[Dict[str, Any]]] = None, record_in_tracker: bool = True
                       ) -> repo.MessageView:
        """Store, send on the citizen's channel, write into the tracker."""
        message = await self.db(repo.add_message, ticket.id, direction, text, source,
                                operator_id=operator.id if operator else None)
        started = time.perf_counter()
        try:
            if ticket.channel not in PULL_CHANNELS:  # REST clients fetch stored messages themselves
                await self.rasa.deliver(ticket.channel, ticket.conversation_id, text, buttons)
        except RasaError as exc:
            await self.db(repo.mark_failed, message.id, str(exc))
            logger.warning("delivery to ticket %s (%s) failed: %s", ticket.id, ticket.channel, exc)
            raise DeliveryFailed(str(exc)) from exc
        elapsed = (time.perf_counter() - started) * 1000
        await self.db(repo.mark_delivered, message.id, elapsed)
        message = dataclasses.replace(message, delivered_at=repo.utcnow(), delivery_ms=elapsed,
                                      conversation_id=ticket.conversation_id,
                                      operator_name=operator.display_name if operator else None)
        if record_in_tracker:
            meta = {"handoff": {"kind": "operator" if direction == "operator" else "system", "ticket": ticket.id,
                                "operator": operator.login if operator else None,
                                "operator_name": operator.display_name if operator else None}}
            event: Dict[str, Any] = {"event": "bot", "text": text, "metadata": meta}
            if buttons:
                event["data"] = {"buttons": buttons}
            try:
                await self.rasa.append_events(ticket.conversation_id, [event])
            except RasaError as exc:
                logger.warning("message of ticket %s delivered but not written to the tracker: %s", ticket.id, exc)
        return message

    async def notify(self, ticket: repo.TicketView, text: str) -> repo.MessageView:
        return await self._deliver(ticket, "system", text, source="worker")

    async def resume_if_claimed(self, ticket: repo.TicketView) -> bool:
        if not await self.db(repo.claim_resume, ticket.id):
            return False
        try:
            await self.resume(ticket)
            return True
        except (RasaError, DeliveryFailed) as exc:
            logger.warning("resuming the bot for ticket %s failed (%s); will retry", ticket.id, exc)
            self._retry_after[ticket.id] = time.monotonic() + 5
            await self.db(repo.release_resume, ticket.id)
            return False

    async def resume(self, ticket: repo.TicketView) -> None:
        """The bot takes the conversation back and says so (asking for a rating
        when an operator talked); its messages go out on the citizen's channel."""
        await self.rasa.append_events(ticket.conversation_id, [{"event": "resume"}])
        replies = await self.rasa.trigger_intent(ticket.conversation_id, RETURN_INTENT)
        for reply in replies:
            text, buttons = reply.get("text") or "", reply.get("buttons")
            if text or buttons:
                await self._deliver(ticket, "bot", text, source="bot", buttons=buttons, record_in_tracker=False)
        await self.db(repo.mark_resumed, ticket.id, rating_requested=operator_talked(ticket))
        await self._emit("resumed", {"ticket": ticket})

    # --- background work ---------------------------------------------------------------

    async def prepare(self) -> None:
        """Start the worker's view of the messages from now on."""
        if self._cursor is None:
            self._cursor = await self.db(repo.max_message_id)

    async def worker_round(self) -> None:
        """Resume the bot where tickets closed, acknowledge the first message of a
        waiting citizen, tell waiting citizens when the wait grew."""
        now = time.monotonic()
        for ticket in await self.db(repo.resume_pending):
            if self._retry_after.get(ticket.id, 0) > now:
                continue
            await self.resume_if_claimed(ticket)
        if self._cursor is None:
            self._cursor = await self.db(repo.max_message_id)
        fresh = await self.db(repo.messages_after, self._cursor, ("citizen", "system"))
        for message in fresh:
            self._cursor = max(self._cursor, message.id)
            ticket = await self.db(repo.get_ticket, message.ticket_id)
            await self._emit("message", {"ticket": ticket, "message": message})
            if message.direction == "citizen" and ticket and ticket.status == "waiting" and not ticket.offline and ticket.acked_at is None:
                await self.db(repo.set_ticket_fields, ticket.id, acked_at=repo.utcnow())
                position, seconds = await self.db(repo.expected_wait, ticket, self.settings.chats_per_operator,
                                                  self.settings.default_handling_minutes * 60)
                try:
                    await self.notify(ticket, texts.waiting_ack(max(position, 1), seconds))
                except DeliveryFailed:
                    pass
        if now - self._last_notice_round >= 10:
            self._last_notice_round = now
            await self.tell_grown_waits()

    async def tell_grown_waits(self) -> int:
        told = 0
        waiting = [t for t in await self.db(repo.queue) if t.status == "waiting" and not t.offline]
        if not waiting:
            return 0
        state = await self.db(repo.queue_state, self.settings.chats_per_operator,
                              self.settings.default_handling_minutes * 60)
        for position, ticket in enumerate(waiting, start=1):
            seconds = estimate_wait_seconds(position, state)
            if should_tell_again(ticket.told_wait_seconds, seconds, self.settings.wait_notice_minutes * 60):
                await self.db(repo.set_ticket_fields, ticket.id, told_wait_seconds=seconds, told_at=repo.utcnow())
                try:
                    await self.notify(ticket, texts.wait_grew(position, seconds))
                    told += 1
                except DeliveryFailed:
                    pass
        return told

    async def run_worker(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.worker_round()
            except Exception:
                logger.exception("handoff worker round failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.worker_interval)
            except asyncio.TimeoutError:
                pass
