"""SQL tracker store that never writes personal data in plain text, and
touches the database once to read and once to write per message.

Configured in endpoints.yml as ``type: hotline.rasa.tracker_store.MaskingSQLTrackerStore``.
A conversation keeps the real values in memory for the turn that needs them
(the form validates the date and the status check uses it in the same turn);
what reaches the database is masked by hotline.privacy — a reply to the
form's question for a date of birth, a name, SNILS or a contact as a whole,
which is why the masking follows the form's open question along the session.

Round trips. Rasa 3.6's SQLTrackerStore.save reads the conversation twice
more after the turn's own read: with an event broker configured (every
profile has the handoff broker) ``stream_events`` retrieves and replays the
whole session to find the new events, then ``_additional_events`` counts the
stored rows. Both answer a question the turn's read already answered: the
tracker this store handed out held exactly the session's stored events, and
the conversation lock keeps other instances from adding any until the save.
So the read remembers, on the tracker object itself, how many events are
stored and which question the form had open after them; the save publishes
and masks only the events past that mark and inserts them. A tracker that
did not come from this store's read of the latest session (a new
conversation, the HTTP API's full tracker, tests) has no mark and is saved
the way Rasa does, whole-session masking included.
On SQLite (`make run`) the store keeps one connection in WAL mode
(_keep_sqlite_connection). HOTLINE_FAST_TRACKER_STORE=0 restores Rasa's
save and Rasa's SQLite engine (for comparison).
"""
from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from hotline import settings
from hotline.privacy import mask_events, masking_context_after
from hotline.rasa.version_guard import require_rasa

# Overrides SQLTrackerStore's _retrieve, save, stream_events and
# _additional_events, and uses _event_query, SQLEvent and session_scope.
require_rasa(__name__)

logger = logging.getLogger(__name__)

_MARK = "_hotline_stored"


@dataclass(frozen=True)
class StoredMark:
    """What the database holds of this tracker's latest session."""

    count: int  # events of tracker.events[:count] are stored
    last: Optional[Event]  # tracker.events[count - 1], to notice a replaced event list
    requested_slot: Optional[str]  # the form's open question after them (for masking)
    asked: bool  # the bot's last message after them asked for personal data (for masking)


def _mark(tracker: DialogueStateTracker, context: Tuple[Optional[str], bool]) -> None:
    events = tracker.events
    setattr(tracker, _MARK, StoredMark(len(events), events[-1] if events else None, *context))


def _valid_mark(tracker: DialogueStateTracker) -> Optional[StoredMark]:
    mark = getattr(tracker, _MARK, None)
    if mark is None:
        return None
    events = tracker.events
    if len(events) < mark.count or (mark.count and events[mark.count - 1] is not mark.last):
        return None  # the event list was replaced or cut: Rasa's way is the safe one
    return mark


class MaskingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        # Both profiles (make run and production) load this store while Rasa
        # starts, before the first message and before the engine exists: the
        # one place they share, so the hooks (pooled action-server HTTP,
        # pool_pre_ping, polite degradation, one compiled reply validator)
        # apply in every profile, not only behind the production channels.
        from hotline.rasa import hooks

        hooks.install()
        self._fast = settings.get("HOTLINE_FAST_TRACKER_STORE")
        super().__init__(*args, **kwargs)
        if self._fast and self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connection()

    def _keep_sqlite_connection(self) -> None:
        """`make run`'s SQLite file: one kept connection, WAL, no fsync per turn.

        SQLAlchemy 1.4 gives a file database a NullPool, so each read and each
        save opened the file and read its schema anew; and every commit in
        SQLite's default journal mode waits for several fsyncs — tens of
        milliseconds on a busy disk, with Rasa's event loop blocked. In WAL
        mode with synchronous=NORMAL a commit is an append to the log: a
        crash of the process loses nothing, a power cut may lose the last
        turns but never corrupts the file, and readers (retention, the
        trainers' inbox) no longer block the writer.
        """
        import sqlalchemy as sa

        url = self.engine.url
        self.engine.dispose()
        engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=1, max_overflow=4,
                                  connect_args={"check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)

    def _mark_of(self, tracker: DialogueStateTracker) -> Optional[StoredMark]:
        return _valid_mark(tracker) if self._fast else None

    # --- read ---------------------------------------------------------------------

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=fetch_events_from_all_sessions).all()
            events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        # Only the latest session is what save() compares against; a tracker
        # cut by max_event_history no longer lines up with the rows.
        if not fetch_events_from_all_sessions and len(tracker.events) == len(events):
            _mark(tracker, masking_context_after(events))  # stored rows keep what the context needs
        return tracker

    # --- write --------------------------------------------------------------------

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        mark = self._mark_of(tracker)
        if mark is None or self.event_broker is None:
            await super().stream_events(tracker)
            return
        new_events = list(itertools.islice(tracker.events, mark.count, None))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        mark = self._mark_of(tracker)
        if mark is None and not tracker.events and self._fast:
            # Rasa saves the empty tracker it creates when the read found no
            # conversation: nothing to write or publish, and nothing stored.
            _mark(tracker, (None, False))
            return
        if mark is None:
            await super().save(tracker)  # counts rows and masks the whole session (_additional_events)
            _mark(tracker, masking_context_after(event.as_dict() for event in tracker.events))
            return
        await self.stream_events(tracker)
        new_events = list(itertools.islice(tracker.events, mark.count, None))
        # A reply can come a message after the question it answers (the form's
        # requested slot, or an utter_ask_* outside a form): carry that
        # context from the events already stored instead of starting afresh.
        context = (mark.requested_slot, mark.asked)
        new_dicts = [event.as_dict() for event in new_events]
        if new_events:
            masked = mask_events(new_dicts, *context)
            with self.session_scope() as session:
                # One multi-row INSERT instead of the ORM's one per event.
                session.execute(self.SQLEvent.__table__.insert(), list(self._rows(tracker.sender_id, masked)))
                session.commit()
        _mark(tracker, masking_context_after(new_dicts, *context))

    @staticmethod
    def _rows(sender_id: str, masked: List[dict]) -> Iterator[Dict[str, Any]]:
        # The same columns SQLTrackerStore.save writes.
        for data in masked:
            yield {
                "sender_id": sender_id,
                "type_name": data.get("event"),
                "timestamp": data.get("timestamp"),
                "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get("name"),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }

    def _additional_events(self, session, tracker) -> Iterator[Event]:
        stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        masked = mask_events([event.as_dict() for event in tracker.events])
        for data in masked[stored:]:
            yield Event.from_parameters(data)
