"""Handoff to a human operator (docs/handoff.md).

Pieces and the process each runs in:

- ``handoff.repository`` over the tables of ``hotline.db.tables.handoff``:
  the queue, operators, sessions, messages and audit log in the project's
  database (DATABASE_URL, Alembic revision 0002). Every process uses it.
- ``actions/handoff.py`` (action server): asks for a one-line summary,
  creates the ticket, tells the position and the expected wait, pauses the bot.
- ``handoff.resumption``: when the bot takes a conversation back and what it
  says then, for both ways back (the console's worker, the action server).
- ``handoff.broker`` (Rasa server, endpoints.yml ``event_broker``): records
  what the citizen writes while an operator has the conversation.
- ``handoff.rasa_channel`` (Rasa server, credentials.yml): delivers operator
  messages through the project's channel code (``handoff.delivery``) and lets
  REST clients fetch them.
- ``handoff.console`` (its own process and port): the operators' web console,
  and ``handoff.operators_telegram``: the operators' Telegram forum group.

This module imports nothing: importing a submodule must stay cheap.
"""
