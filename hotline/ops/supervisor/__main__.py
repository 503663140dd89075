"""``python -m hotline.ops.supervisor run``: start the production profile
and supervise it until Ctrl+C or SIGTERM; ``render-nginx`` prints nginx's
configuration."""
from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import List, Optional

import hotline.ops.supervisor as package
from hotline.ops.supervisor.config import ProdConfig
from hotline.ops.supervisor.profile import ProdProfile


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotline.ops.supervisor", description=package.__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the profile and supervise it until Ctrl+C")
    run.add_argument("--instances", type=int, default=None, help="Rasa instances (default $RASA_INSTANCES or 2)")
    run.add_argument("--no-demo", action="store_true", help="do not load demo applications into an empty store")
    sub.add_parser("render-nginx", help="print the nginx configuration")
    args = parser.parse_args(argv)

    config = ProdConfig()
    if getattr(args, "instances", None):
        config.rasa_instances = args.instances
    profile = ProdProfile(config)
    if args.command == "render-nginx":
        print(profile.render_nginx().read_text())
        return 0
    config.load_demo = not args.no_demo
    stop_flag = [False]

    def on_signal(signum, _frame):
        stop_flag[0] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    try:
        profile.start(log=lambda m: print(f">> {m}", flush=True))
        print(profile.banner(), flush=True)
        print(f"(started in {time.monotonic() - started:.0f} s)", flush=True)
        profile.supervise(stop_flag)
    except KeyboardInterrupt:
        pass
    finally:
        print(">> stopping ...", flush=True)
        profile.stop()
        print(">> stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
