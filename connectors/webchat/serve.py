"""Serve the web chat widget and its demo portal page (standard library only).

    python -m connectors.webchat.serve --port 8080 --rasa-url http://localhost:5005

``/`` and ``/demo.html`` are the demo page, with its widget pointed at
``--rasa-url``; ``/widget.js`` and ``/vendor/`` are what a real portal embeds.
Only files inside ``static/`` are served; no directory listings.
"""
from __future__ import annotations

import argparse
import html
import http.server
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

STATIC = Path(__file__).resolve().parent / "static"
DEMO = "demo.html"
# demo.html carries this attribute; the server swaps in --rasa-url.
DEFAULT_SERVER_ATTR = 'data-server="http://localhost:5005"'

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".map": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}


def check_rasa_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--rasa-url must be an http(s) URL, got {url!r}")
    return url.rstrip("/")


class WidgetHandler(http.server.SimpleHTTPRequestHandler):
    server_version = "hotline-webchat"
    rasa_url = "http://localhost:5005"
    quiet = False

    def version_string(self) -> str:  # no Python version in the Server header
        return self.server_version

    def guess_type(self, path):  # noqa: D102 - stdlib override
        return TYPES.get(Path(str(path)).suffix.lower(), "application/octet-stream")

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        super().end_headers()

    def list_directory(self, path):  # noqa: D102 - no listings
        self.send_error(404, "Not found")
        return None

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if urlsplit(self.path).path in ("/", "/index.html", f"/{DEMO}"):
            self._send_demo(head_only=False)
        else:
            super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if urlsplit(self.path).path in ("/", "/index.html", f"/{DEMO}"):
            self._send_demo(head_only=True)
        else:
            super().do_HEAD()

    def _send_demo(self, head_only: bool) -> None:
        page = (STATIC / DEMO).read_text(encoding="utf-8")
        page = page.replace(DEFAULT_SERVER_ATTR, f'data-server="{html.escape(self.rasa_url, quote=True)}"')
        body = page.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", TYPES[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if not self.quiet:
            super().log_message(format, *args)


def make_server(port: int = 8080, host: str = "127.0.0.1", rasa_url: str = "http://localhost:5005",
                quiet: bool = False) -> http.server.ThreadingHTTPServer:
    """A ready (not yet serving) server; port 0 picks a free port."""
    handler = type("Handler", (WidgetHandler,), {"rasa_url": check_rasa_url(rasa_url), "quiet": quiet})
    server = http.server.ThreadingHTTPServer((host, port), partial(handler, directory=str(STATIC)))
    server.daemon_threads = True
    server.rasa_url = handler.rasa_url
    return server


def serve_in_thread(port: int = 0, host: str = "127.0.0.1", rasa_url: str = "http://localhost:5005",
                    quiet: bool = True) -> http.server.ThreadingHTTPServer:
    """Start serving in a daemon thread (tests); stop with ``server.shutdown()``."""
    server = make_server(port, host, rasa_url, quiet)
    threading.Thread(target=server.serve_forever, name="webchat-static", daemon=True).start()
    return server


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the web chat widget and its demo page.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 for all)")
    parser.add_argument("--rasa-url", default="http://localhost:5005",
                        help="Rasa server the demo page's widget talks to")
    parser.add_argument("--quiet", action="store_true", help="no request log")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.port, args.host, args.rasa_url, args.quiet)
    except (OSError, ValueError) as error:
        print(f"webchat: {error}", file=sys.stderr)
        return 1
    shown_host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    print(f"Веб-чат: демо-страница портала http://{shown_host}:{server.server_address[1]}/ "
          f"(ассистент: {server.rasa_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
