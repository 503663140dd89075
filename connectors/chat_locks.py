"""One turn at a time per chat, so answers keep the order of the questions.

Shared by the messenger channels, which handle updates in background tasks.
An entry lives only while someone holds or awaits it (bounded memory).
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Dict, Hashable, List


class ChatLocks:
    def __init__(self) -> None:
        self._locks: Dict[Hashable, List[Any]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: Hashable) -> AsyncIterator[None]:
        entry = self._locks.setdefault(chat_id, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(chat_id, None)

    def __len__(self) -> int:
        return len(self._locks)
