"""Start ``rasa run`` with its API locked: ``python -m hotline.rasa_server <rasa run options>``.

Every profile starts Rasa through this module instead of ``rasa run``:

* the API key (hotline.rasa_api: ``RASA_API_TOKEN`` or var/rasa-api.secret)
  becomes Rasa's ``--jwt-secret`` inside this process only. The options are
  handed to Rasa's own command line parser in ``sys.argv``, which is a copy:
  the process's real argv — what ``ps`` and /proc show — never holds it;
* ``?token=`` never works (no ``--auth-token``): API clients send
  ``Authorization: Bearer <JWT>``; the launcher refuses ``--auth-token`` and
  ``--jwt-secret`` on its own command line;
* CORS only for the widget's origins (hotline/origins.py) unless
  the caller passes ``--cors`` itself;
* the interface is ``RASA_HOST`` when set (``--interface`` wins).
"""
from __future__ import annotations

import sys
from typing import List, Optional

REFUSED = ("--auth-token", "--jwt-secret", "--jwt-private-key")


def rasa_argv(args: List[str], key: str, env=None) -> List[str]:
    from hotline.origins import allowed_origins

    from hotline import settings

    args = list(args)
    if args[:1] == ["run"]:
        args = args[1:]
    for arg in args:
        if arg.split("=", 1)[0] in REFUSED:
            raise SystemExit(f"{arg.split('=', 1)[0]}: secrets do not go on the command line; "
                             "set RASA_API_TOKEN or let var/rasa-api.secret be created")
    if "--cors" not in args:
        args += ["--cors", *allowed_origins(env)]
    host = settings.get("RASA_HOST", env)
    if host and "--interface" not in args and "-i" not in args:
        args += ["--interface", host]
    # "--jwt-secret=KEY" in one word: a key that starts with "-" (token_urlsafe
    # gives one in 64) would otherwise be taken by argparse for an option.
    return ["rasa", "run", *args, f"--jwt-secret={key}", "--jwt-method", "HS256"]


def main(argv: Optional[List[str]] = None) -> None:
    from hotline.rasa_api import api_key

    sys.argv = rasa_argv(sys.argv[1:] if argv is None else argv, api_key())
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
