"""Developer package: test doubles and harnesses shared by the test suite
(tests/) and the benchmarks (bench/). No process of the product imports it;
it is installed (editable, pyproject.toml) only so that benchmarks need
neither sys.path edits nor the test suite.

Outside platforms, each a local server speaking the real protocol:
telegram.py (Bot API for the citizens' bot, driven by aiogram), max.py (MAX
Bot API), operators_bot_api.py (Bot API for the operators' group, driven by
python-telegram-bot), vk.py (VK API and Bots Long Poll), phone.py (an
AudioSocket telephone and a scripted assistant), rasa.py (the part of
Rasa's HTTP API the operators' console uses).

Clients and harnesses: widget_citizen.py (the web widget without a
browser), console_client.py (an operator's session in the console),
handoff_stack.py (Rasa, action server and console running for real on one
database), app_thread.py (an aiohttp server in a thread: AppThread, and
ThreadedServer for the platforms' fakes), waiting.py (wait_until).
"""
