"""SQL tracker store that never writes personal data in plain text.

Configured in endpoints.yml as ``type: hotline.rasa.tracker_store.MaskingSQLTrackerStore``.
A conversation keeps the real values in memory for the turn that needs them
(the form validates the date and the status check uses it in the same turn);
what reaches the database is masked by hotline.privacy — a reply to the
form's question for a date of birth, a name, SNILS or a contact as a whole,
which is why the whole session is replayed to know the open question.
"""
from __future__ import annotations

from typing import Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event

from hotline.privacy import mask_events
from hotline.rasa.version_guard import require_rasa

# Overrides SQLTrackerStore's private _additional_events and uses _event_query.
require_rasa(__name__)


class MaskingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args, **kwargs) -> None:
        # Both profiles (make run and production) load this store while Rasa
        # starts, before the first message and before the engine exists: the
        # one place they share, so the hooks (pooled action-server HTTP,
        # pool_pre_ping, polite degradation, one compiled reply validator)
        # apply in every profile, not only behind the production channels.
        from hotline.rasa import hooks

        hooks.install()
        super().__init__(*args, **kwargs)

    def _additional_events(self, session, tracker) -> Iterator[Event]:
        stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        masked = mask_events([event.as_dict() for event in tracker.events])
        for data in masked[stored:]:
            yield Event.from_parameters(data)
