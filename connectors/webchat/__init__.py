"""Embeddable web chat widget for Rasa's socket.io channel (static files + a tiny server)."""
