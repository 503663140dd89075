"""Rasa's OutputChannel methods for the messenger channels (Telegram, MAX).

Each channel's output class has one `send(recipient, text, buttons)` that
splits, builds the keyboard and retries the platform's way; everything Rasa
may call lands there, so no channel answers a kind of response differently.
"""
from __future__ import annotations

from typing import Any, Dict, List


class SendThroughOne:
    async def send(self, recipient_id: Any, text: str, buttons: Any = None) -> Any:
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send(recipient_id, text)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.send(recipient_id, text, buttons)

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.send(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, str):
            await self.send(recipient_id, attachment)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        # Custom payloads belong to other channels (the widget); a messenger
        # gets their text and buttons, if any, never raw JSON.
        custom = json_message.get(self.name(), json_message) if isinstance(json_message, dict) else {}
        if isinstance(custom, dict) and (custom.get("text") or custom.get("buttons")):
            await self.send(recipient_id, custom.get("text") or "", custom.get("buttons"))
