"""Test doubles for the outside platforms, each a local server speaking the
real protocol: telegram.py (Bot API for the citizens' bot, driven by
aiogram), operators_bot_api.py (Bot API for the operators' group, driven by
python-telegram-bot), vk.py (VK API and Bots Long Poll), phone.py (an
AudioSocket telephone and a scripted assistant)."""
