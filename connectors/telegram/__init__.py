"""Telegram channel of the hotline assistant (see docs/channels/telegram.md).

channel.TelegramInput is registered in credentials.yml; polling runs long
polling for deployments without public HTTPS; channel.send_text_to sends a
message from outside a request.
"""
