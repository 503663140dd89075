"""Page origins allowed to talk to the assistant from a browser.

``WEBCHAT_ALLOWED_ORIGINS`` (comma separated, e.g.
``https://www.gosuslugi-region.ru,https://portal2.ru``) lists the portals
that embed the widget. Unset, only the demo page that ``make run`` serves
(``http://localhost:$WEBCHAT_PORT``, 8080) is allowed. The Rasa server's CORS
headers (hotline.rasa_server) and the socket.io origin check
(connectors/webchat/channel.py) both use this list, so a page elsewhere can
neither read API answers nor open the widget's socket.
"""
from __future__ import annotations

from typing import List, Mapping, Optional

from hotline import settings


def demo_origins(env: Optional[Mapping[str, str]] = None) -> List[str]:
    port = settings.get("WEBCHAT_PORT", env)
    return [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]


def allowed_origins(env: Optional[Mapping[str, str]] = None, configured=None) -> List[str]:
    """``configured`` (credentials.yml) or WEBCHAT_ALLOWED_ORIGINS, else the demo page's origins."""
    origins = configured or settings.get("WEBCHAT_ALLOWED_ORIGINS", env)
    if isinstance(origins, str):
        origins = [o.strip() for o in origins.split(",") if o.strip()]
    origins = [str(o).rstrip("/") for o in origins]
    return origins or demo_origins(env)
