"""Plug-ins the Rasa server loads by class path from endpoints.yml and
credentials.yml: the masking tracker store, the Redis lock store with its
in-process fallback, the guarded channels (size and rate limits, metrics,
/ops routes) and the hooks into Rasa 3.6 internals they install.

Every module here runs inside `rasa run` only; the action server, the console
and the CLIs never import it."""
