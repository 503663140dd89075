"""Shared code of the government-services hotline assistant.

Rasa components, the spaCy pipeline builder and helpers that both the Rasa
server and the action server import live here, so that neither has to import
the other.
"""
