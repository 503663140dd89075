"""VK (VKontakte community messages) channel: Callback API and Bots Long Poll.

Register ``connectors.vk.channel.VKInput`` in a credentials file; see
docs/channels/vk.md. `send_text(peer_id, text)` sends from anywhere in the
process, without an incoming event.
"""
from connectors.vk.api import VKApiError, VKClient, send_text

__all__ = ["VKApiError", "VKClient", "send_text"]
