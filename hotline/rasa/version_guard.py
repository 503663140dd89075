"""Hooks into Rasa internals refuse to start on a Rasa they were not written for.

Several modules reach past Rasa's public interfaces: they replace methods
(hotline/rasa/hooks.py), override private methods of Rasa classes (the lock
store's ticket handling, the tracker store's event query) or swap a
socket.io handler (connectors/webchat). Each was written against the source
of one Rasa release. On another release such a hook may silently do nothing,
or do the wrong thing — a method renamed, a private attribute gone, an
argument added. Rather than find out from citizens, every such module calls
``require_rasa()`` when it is imported (Rasa imports it while starting), and
the server stops with a message that says which hook needs checking.

To upgrade Rasa: read each hook against the new Rasa's source, adjust it,
then add the new version to ``WRITTEN_FOR``.
"""
from __future__ import annotations

from typing import Iterable, Optional

# The Rasa releases whose source the hooks were checked against (the pin in
# requirements.lock).
WRITTEN_FOR = frozenset({"3.6.21"})


class UnsupportedRasaVersion(RuntimeError):
    pass


def require_rasa(hook: str, written_for: Optional[Iterable[str]] = None) -> None:
    """Raise UnsupportedRasaVersion unless the installed Rasa is one ``hook`` was written for."""
    import rasa

    versions = frozenset(written_for or WRITTEN_FOR)
    installed = getattr(rasa, "__version__", "unknown")
    if installed not in versions:
        raise UnsupportedRasaVersion(
            f"{hook} hooks into Rasa internals and was written for Rasa {', '.join(sorted(versions))}, "
            f"but Rasa {installed} is installed. Check the hook against this Rasa's source, then add "
            f"{installed} to hotline.rasa.version_guard.WRITTEN_FOR (or pin Rasa back)."
        )
