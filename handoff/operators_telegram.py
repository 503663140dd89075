"""The operators' workspace in Telegram (python-telegram-bot 22).

A bot of its own (HANDOFF_TG_TOKEN — not the citizens' bot) in the operators'
supergroup with forum topics (HANDOFF_TG_CHAT_ID; the bot is an admin that
may manage topics). For every ticket it opens a topic «№12 · <summary>»
with the ticket's card and a «Взять» button, and posts what the citizen
writes there as it comes. An operator whose Telegram account is linked to
his console account (``python -m handoff.admin add-operator --telegram-id``)

* takes the ticket with the button or ``/take``;
* answers by writing in the topic — the text goes to the citizen on his channel;
* ends it with ``/close [итог]`` — the bot resumes and asks for a rating.

The same access rules and audit log as the console (handoff.service). Runs
inside the console process when both variables are set, or on its own:
``python -m handoff.operators_telegram``. HANDOFF_TG_API_URL points it at another
Bot API server (tests use a local fake).
"""
from __future__ import annotations

import asyncio
import logging
import sys
from typing import Optional

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, \
    MessageHandler, filters

from hotline.status import StoreUnavailable
from handoff import preview
from handoff import repository as repo
from handoff.config import Settings
from handoff.service import Actor, DeliveryFailed, HandoffService, Refused

logger = logging.getLogger(__name__)
CHANNEL_WORDS = {"rest": "REST", "socketio": "веб-виджет", "telegram": "Telegram", "vk": "ВКонтакте", "max": "MAX", "voice": "телефон"}
SPEAKERS = {"citizen": "👤 Гражданин", "bot": "🤖 Бот", "system": "ℹ️", "operator": "🎧 Оператор"}
MAX_TOPIC_NAME = 128


def _shown(ticket: repo.TicketView) -> dict:
    """What the whole group may see of a ticket: masked until someone takes it
    (the topic name and the card stay in the group for good)."""
    public = ticket.public()
    return preview.masked_ticket(public) if ticket.status == "waiting" else public


def topic_name(ticket: repo.TicketView) -> str:
    return f"№{ticket.id} · {_shown(ticket)['summary']}"[:MAX_TOPIC_NAME]


def card_text(ticket: repo.TicketView) -> str:
    shown = _shown(ticket)
    lines = [f"Обращение №{ticket.id}", f"Вопрос: {shown['summary']}",
             f"Канал: {CHANNEL_WORDS.get(ticket.channel, ticket.channel)}"
             + (" (заявка вне рабочих часов)" if ticket.offline else ""),
             f"Тема: {ticket.topic or '—'}"]
    if shown["callback_phone"]:
        lines.append(f"Обратный звонок: {shown['callback_phone']}")
    lines.append("Взять — кнопкой или /take; отвечайте сообщениями в этой теме; завершить — /close итог.")
    return "\n".join(lines)


class TelegramWorkspace:
    def __init__(self, service: HandoffService, settings: Settings, poll_interval: float = 0.3) -> None:
        if not settings.tg_token or not settings.tg_chat_id:
            raise ValueError("HANDOFF_TG_TOKEN and HANDOFF_TG_CHAT_ID are required")
        self.service = service
        self.settings = settings
        self.chat_id = settings.tg_chat_id
        self.poll_interval = poll_interval
        self.application: Application = (
            ApplicationBuilder().token(settings.tg_token)
            .base_url(f"{settings.tg_api_url}/bot").base_file_url(f"{settings.tg_api_url}/file/bot")
            .concurrent_updates(False).build())
        group = filters.Chat(chat_id=self.chat_id)
        self.application.add_handler(CallbackQueryHandler(self.on_button, pattern=r"^take:\d+$"))
        self.application.add_handler(CommandHandler("take", self.on_take, filters=group))
        self.application.add_handler(CommandHandler("close", self.on_close, filters=group))
        self.application.add_handler(MessageHandler(group & filters.TEXT & ~filters.COMMAND, self.on_text))
        self._stop = asyncio.Event()
        self._sync: Optional[asyncio.Task] = None
        self._sync_lock = asyncio.Lock()

    @property
    def bot(self):
        return self.application.bot

    async def start(self) -> None:
        await self.application.initialize()
        await self.application.start()
        await self.application.updater.start_polling(poll_interval=0.0, timeout=10,
                                                     allowed_updates=["message", "callback_query"])
        self._sync = asyncio.create_task(self._sync_loop())
        logger.info("operators' Telegram workspace started for chat %s", self.chat_id)

    async def stop(self) -> None:
        self._stop.set()
        if self._sync is not None:
            await asyncio.wait([self._sync], timeout=10)
        if self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    # --- the queue → the group ------------------------------------------------------

    async def _sync_loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sync_once()
            except StoreUnavailable:
                logger.warning("Telegram workspace: database unavailable")
            except Exception:
                logger.exception("Telegram workspace sync failed")
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll_interval)
            except asyncio.TimeoutError:
                pass

    async def sync_once(self) -> None:
        async with self._sync_lock:
            for ticket in await self.service.db(repo.tickets_for_telegram):
                try:
                    await self._sync_ticket(ticket)
                except TelegramError as exc:
                    logger.warning("Telegram workspace: ticket %s not synced: %s", ticket.id, exc)

    async def _sync_ticket(self, ticket: repo.TicketView) -> None:
        db = self.service.db
        if ticket.tg_topic_id is None:
            if not ticket.is_open:
                return
            topic = await self.bot.create_forum_topic(self.chat_id, topic_name(ticket))
            await db(repo.set_ticket_fields, ticket.id, tg_topic_id=topic.message_thread_id, tg_synced_message_id=0)
            markup = (InlineKeyboardMarkup([[InlineKeyboardButton("Взять", callback_data=f"take:{ticket.id}")]])
                      if ticket.status == "waiting" else None)
            await self.bot.send_message(self.chat_id, card_text(ticket), message_thread_id=topic.message_thread_id,
                                        reply_markup=markup)
            ticket = await db(repo.get_ticket, ticket.id)
        synced = ticket.tg_synced_message_id or 0
        for message in await db(repo.ticket_messages, ticket.id, synced):
            if not (message.direction == "operator" and message.source == "telegram"):
                who = SPEAKERS.get(message.direction, "")
                if message.direction == "operator" and message.operator_name:
                    who += f" {message.operator_name} (консоль)"
                text = message.text
                if ticket.status == "waiting":  # every operator in the group reads it: masked until taken
                    text = preview.masked_items([{"text": text}])[0]["text"]
                await self.bot.send_message(self.chat_id, f"{who}: {text}",
                                            message_thread_id=ticket.tg_topic_id)
            synced = message.id
            await db(repo.set_ticket_fields, ticket.id, tg_synced_message_id=synced)
        if ticket.status == "closed" and not ticket.tg_closed:
            closing = f"Обращение закрыто ({'гражданином' if ticket.closed_by == 'citizen' else 'оператором'})."
            if ticket.resolution:
                closing += f" Итог: {ticket.resolution}"
            await self.bot.send_message(self.chat_id, closing, message_thread_id=ticket.tg_topic_id)
            try:
                await self.bot.close_forum_topic(self.chat_id, ticket.tg_topic_id)
            except TelegramError as exc:
                logger.info("Telegram workspace: topic of ticket %s not closed: %s", ticket.id, exc)
            await db(repo.set_ticket_fields, ticket.id, tg_closed=True)

    # --- the group → the queue --------------------------------------------------------

    async def _operator(self, update: Update) -> Optional[repo.OperatorView]:
        user = update.effective_user
        operator = await self.service.db(repo.operator_by_telegram, user.id) if user else None
        if operator is None or not operator.is_active or not operator.may_operate:
            await self.service.db(repo.record_audit, "refused", subject=f"telegram:{user.id if user else '?'}",
                                  detail="not a registered operator", via="telegram")
            return None
        await self.service.db(repo.touch_operator, operator.id)
        return operator

    async def _ticket_of(self, update: Update) -> Optional[repo.TicketView]:
        message = update.effective_message
        thread = getattr(message, "message_thread_id", None) if message else None
        if not thread:
            return None
        return await self.service.db(repo.ticket_by_topic, thread)

    async def _reply(self, update: Update, text: str) -> None:
        message = update.effective_message
        if message is not None:
            await self.bot.send_message(self.chat_id, text, message_thread_id=message.message_thread_id,
                                        reply_to_message_id=message.message_id)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        ticket_id = int(query.data.split(":", 1)[1])
        operator = await self._operator(update)
        if operator is None:
            await query.answer("Ваш Telegram не привязан к учётной записи оператора", show_alert=True)
            return
        try:
            ticket = await self.service.take(ticket_id, Actor(operator, "telegram"))
        except Refused as refused:
            await query.answer(refused.message, show_alert=True)
            return
        await query.answer("Обращение ваше")
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:
            pass
        await self.bot.send_message(self.chat_id, f"Обращение взял(а) {operator.display_name}.",
                                    message_thread_id=ticket.tg_topic_id)

    async def on_take(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        operator = await self._operator(update)
        ticket = await self._ticket_of(update)
        if operator is None or ticket is None:
            await self._reply(update, "Команда работает в теме обращения и только для операторов.")
            return
        try:
            await self.service.take(ticket.id, Actor(operator, "telegram"))
        except Refused as refused:
            await self._reply(update, refused.message)
            return
        await self._reply(update, f"Обращение взял(а) {operator.display_name}.")

    async def on_close(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        operator = await self._operator(update)
        ticket = await self._ticket_of(update)
        if operator is None or ticket is None:
            await self._reply(update, "Команда работает в теме обращения и только для операторов.")
            return
        resolution = " ".join(context.args or [])
        try:
            await self.service.close(ticket.id, Actor(operator, "telegram"), resolution)
        except Refused as refused:
            await self._reply(update, refused.message)
            return
        await self.sync_once()

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.message_thread_id:
            return  # the group's general topic: not a ticket
        ticket = await self._ticket_of(update)
        if ticket is None:
            return
        operator = await self._operator(update)
        if operator is None:
            await self._reply(update, "Ваш Telegram не привязан к учётной записи оператора: сообщение не отправлено.")
            return
        try:
            await self.service.send(ticket.id, Actor(operator, "telegram"), message.text or "")
        except Refused as refused:
            hint = " Сначала возьмите обращение: /take" if ticket.status == "waiting" else ""
            await self._reply(update, refused.message + hint)
        except DeliveryFailed as failed:
            await self._reply(update, f"Не доставлено гражданину: {failed}")


async def _run_forever(settings: Settings) -> None:
    from handoff.rasa_client import RasaApiClient

    service = HandoffService(settings, RasaApiClient(settings))
    workspace = TelegramWorkspace(service, settings)
    await workspace.start()
    stop = asyncio.Event()
    worker = asyncio.create_task(service.run_worker(stop)) if "--with-worker" in sys.argv else None
    try:
        await asyncio.Event().wait()
    finally:
        stop.set()
        if worker:
            await asyncio.wait([worker], timeout=10)
        await workspace.stop()
        await service.rasa.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.load()
    if not settings.tg_token or not settings.tg_chat_id:
        print("задайте HANDOFF_TG_TOKEN и HANDOFF_TG_CHAT_ID", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run_forever(settings))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
