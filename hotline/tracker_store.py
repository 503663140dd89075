"""SQL tracker store that never writes personal data in plain text.

Configured in endpoints.yml as ``type: hotline.tracker_store.MaskingSQLTrackerStore``.
A conversation keeps the real values in memory for the turn that needs them
(the form validates the date and the status check uses it in the same turn);
what reaches the database is masked by hotline.privacy.
"""
from __future__ import annotations

from typing import Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event

from hotline.privacy import mask_event


class MaskingSQLTrackerStore(SQLTrackerStore):
    def _additional_events(self, session, tracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield Event.from_parameters(mask_event(event.as_dict()))
