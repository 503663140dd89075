"""The key of Rasa's HTTP API and the bearer tokens internal clients send.

Rasa 3.6 authenticates its API (``/conversations/…``, ``/model``, …) either
by ``?token=`` in the URL — which proxies and access logs keep — or by a JWT
in ``Authorization: Bearer`` signed with ``--jwt-secret`` (rasa/server.py,
``requires_auth``). Every profile uses the JWT: the Rasa server gets the key
from hotline.rasa_server (never on its command line), and the console, the
handoff delivery, the voice client and the tests sign short-lived tokens with
the same key. The key is ``RASA_API_TOKEN`` or ``var/rasa-api.secret``
(created on first start, mode 600).

A person who needs the API by hand::

    .venv/bin/python -m hotline.rasa_api token          # valid 15 minutes
    curl -H "Authorization: Bearer $TOKEN" http://localhost:5005/conversations/<id>/tracker
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Dict, Mapping, Optional

from hotline.secret_files import secret

ENV = "RASA_API_TOKEN"
FILE = "rasa-api.secret"
ALGORITHM = "HS256"


def api_key(env: Optional[Mapping[str, str]] = None) -> str:
    return secret(ENV, FILE, env)


def bearer_token(key: Optional[str] = None, ttl: float = 900, subject: str = "hotline") -> str:
    """A JWT Rasa accepts for every API route (role ``admin``, rasa/server.py)."""
    import jwt

    now = int(time.time())
    claims = {"user": {"username": subject, "role": "admin"}, "iat": now, "exp": now + int(ttl)}
    return jwt.encode(claims, key or api_key(), algorithm=ALGORITHM)


class BearerAuth:
    """``Authorization`` header with a token renewed before it expires."""

    def __init__(self, key: Optional[str] = None, ttl: float = 900) -> None:
        self.key = key
        self.ttl = ttl
        self._token = ""
        self._renew_at = 0.0

    def headers(self) -> Dict[str, str]:
        now = time.monotonic()
        if not self._token or now >= self._renew_at:
            self._token = bearer_token(self.key, self.ttl)
            self._renew_at = now + self.ttl / 2
        return {"Authorization": f"Bearer {self._token}"}

    # requests' auth protocol: requests.get(url, auth=BearerAuth())
    def __call__(self, request):
        request.headers.update(self.headers())
        return request


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotline.rasa_api",
                                     description="A bearer token for Rasa's HTTP API (for a person at a terminal).")
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token", help="print a token valid for --ttl seconds")
    token.add_argument("--ttl", type=int, default=900)
    args = parser.parse_args(argv)
    print(bearer_token(ttl=max(1, args.ttl)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
