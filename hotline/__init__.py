"""Shared code of the government-services hotline assistant.

    settings.py    the environment variables of the shared code, typed, with defaults
    paths.py       ROOT, the repository root
    db/            the one SQL database: Base, tables, engine, Alembic migrations
    status/        the application-status store: repository, importer, demo, CLI
    nlu/           Rasa NLU components, morphology, the spaCy pipeline builder,
                   training.py (`make train`: trains only when the model's inputs changed)
    rasa/          plug-ins the Rasa server loads: tracker/lock store, guarded
                   channels, hooks into Rasa's internals
    ops/           metrics, health, JSON logs, retention, process supervision
    entities.py, services.py, privacy.py
                   rules shared by NLU, actions, channels and voice
    action_server.py
                   the action server's entry module

Imports point down only (docs/architecture.md): nothing in hotline imports
actions, connectors, handoff or voice, except entry modules that say so.
"""
