"""Process manager of the production profile on one machine (loopback).

``python -m hotline.ops.supervisor run`` (``make run-prod``, deploy/run_prod.sh) starts,
from Debian's packages and this repository:

* PostgreSQL — a cluster in var/prod/pg run as the ``postgres`` OS user
  (when started as root), databases ``hotline_tracker`` (Rasa's tracker
  store) and ``hotline_status`` (status store, migrated by Alembic); SCRAM
  password required on every connection;
* Redis — Rasa's lock store and the shared rate-limit counters (no
  persistence: both are short-lived), ``requirepass``;
  both passwords are generated into var/prod/secrets/ (hotline.prod_secrets);
* two action servers (hotline.action_server) and N Rasa instances
  (``rasa run`` with deploy/endpoints.prod.yml, credentials.yml (the same channels as `make run`),
  deploy/logging.prod.yml), all on 127.0.0.1;
* nginx (deploy/nginx.conf.template) in front of them;

waits until every /ops/health answers, prints the URLs, restarts a Rasa or
action process that dies, and on Ctrl+C (or SIGTERM) stops everything in
reverse order. The same class drives the tests (tests/prod) and the load
benchmark (bench/load.py), which also stop and kill single services.

Settings by environment (defaults in brackets): RASA_INSTANCES [2],
PROD_NGINX_PORT [8080], PROD_RASA_PORT [5105, +1 per instance],
PROD_ACTION_PORT [5155, +1], PROD_ACTIONS_LB_PORT [5150], PROD_PG_PORT
[5433], PROD_REDIS_PORT [6380], PROD_DIR [var/prod], RASA_API_TOKEN
[var/rasa-api.secret, hotline.rasa_api], plus the limits of
hotline.rasa.channels.
"""
from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import quote

from hotline import settings
from hotline.ops.ports import free_port
from hotline.paths import ROOT
from hotline.prod_secrets import (PG_USER, ProfileSecrets, initdb_with_password, redis_config,
                                  require_password, trusts_anyone)
from hotline.rasa_api import api_key

DEPLOY = ROOT / "deploy"
TRACKER_DB = "hotline_tracker"
STATUS_DB = "hotline_status"



def find_pg_bindir() -> Optional[Path]:
    import glob
    import re

    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
             if Path(p).with_name("pg_ctl").exists()]
    return max(found, key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)], default=None)



@dataclass
class ProdConfig:
    base: Path = field(default_factory=lambda: Path(settings.get("PROD_DIR") or ROOT / "var" / "prod"))
    rasa_instances: int = field(default_factory=lambda: settings.get("RASA_INSTANCES"))
    action_instances: int = 2
    nginx_port: int = field(default_factory=lambda: settings.get("PROD_NGINX_PORT"))
    rasa_port: int = field(default_factory=lambda: settings.get("PROD_RASA_PORT"))
    action_port: int = field(default_factory=lambda: settings.get("PROD_ACTION_PORT"))
    actions_lb_port: int = field(default_factory=lambda: settings.get("PROD_ACTIONS_LB_PORT"))
    pg_port: int = field(default_factory=lambda: settings.get("PROD_PG_PORT"))
    redis_port: int = field(default_factory=lambda: settings.get("PROD_REDIS_PORT"))
    model: Optional[Path] = None
    # fsync off: only for throw-away clusters (tests, benchmarks).
    fast_pg: bool = False
    load_demo: bool = True
    api_token: str = field(default_factory=lambda: api_key())
    rest_ip_rate: int = field(default_factory=lambda: settings.get("NGINX_REST_IP_RATE"))
    rest_ip_burst: int = field(default_factory=lambda: settings.get("NGINX_REST_IP_BURST"))
    action_timeout: int = field(default_factory=lambda: int(settings.get("ACTION_TIMEOUT_SECONDS")))
    extra_env: Dict[str, str] = field(default_factory=dict)
    credentials: Path = field(default_factory=lambda: Path(
        settings.get("HOTLINE_CREDENTIALS") or ROOT / "credentials.yml"))

    @classmethod
    def ephemeral(cls, base: Path, **kwargs) -> "ProdConfig":
        """Free ports and a fast throw-away cluster (tests, benchmarks)."""
        config = cls(base=base, fast_pg=True, **kwargs)
        config.nginx_port, config.actions_lb_port = free_port(), free_port()
        config.pg_port, config.redis_port = free_port(), free_port()
        config.rasa_port = config.action_port = 0  # per-instance free ports
        return config


class ProdProfile:
    def __init__(self, config: ProdConfig) -> None:
        self.config = config
        self.base = config.base.resolve()
        self.log_dir = self.base / "log"
        self.pg_dir = self.base / "pg"
        self.pg_bindir = find_pg_bindir()
        self.run_as: List[str] = []
        self.procs: Dict[str, subprocess.Popen] = {}
        self.rasa_ports: List[int] = [config.rasa_port + i if config.rasa_port else free_port()
                                      for i in range(config.rasa_instances)]
        self.action_ports: List[int] = [config.action_port + i if config.action_port else free_port()
                                        for i in range(config.action_instances)]
        self.pg_started = False
        self.secrets = ProfileSecrets(self.base)
        self._pg_owner: Optional[tuple] = None

    # --- addresses ----------------------------------------------------------------

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.config.nginx_port}"

    def pg_url(self, db: str, secret: bool = True) -> str:
        password = quote(self.secrets.pg_password, safe="") if secret else "***"
        return f"postgresql+psycopg2://{PG_USER}:{password}@127.0.0.1:{self.config.pg_port}/{db}"

    @property
    def tracker_url(self) -> str:
        return self.pg_url(TRACKER_DB)

    @property
    def status_url(self) -> str:
        return self.pg_url(STATUS_DB)

    @property
    def redis_url(self) -> str:
        return f"redis://:{quote(self.secrets.redis_password, safe='')}@127.0.0.1:{self.config.redis_port}"

    def rasa_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[i]}"

    def action_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.action_ports[i]}"

    def env(self) -> Dict[str, str]:
        """Environment of the Rasa and action processes (and of retention jobs)."""
        c = self.config
        return {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            # No telemetry or crash reports leave the machine.
            "RASA_TELEMETRY_ENABLED": "false",
            "HOTLINE_JSON_LOGS": "1",
            "PYTHONWARNINGS": "ignore",
            "PG_HOST": "127.0.0.1", "PG_PORT": str(c.pg_port), "PG_USER": PG_USER,
            "PG_PASSWORD": self.secrets.pg_password,
            "TRACKER_DB": TRACKER_DB,
            "DATABASE_URL": self.status_url,
            "TRACKER_DATABASE_URL": self.tracker_url,
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(c.redis_port), "REDIS_LOCK_DB": "1",
            "REDIS_PASSWORD": self.secrets.redis_password,
            "REDIS_URL": f"{self.redis_url}/2",
            "ACTIONS_URL": f"http://127.0.0.1:{c.actions_lb_port}/webhook",
            "ACTION_HEALTH_URL": f"http://127.0.0.1:{c.actions_lb_port}/health",
            "ACTION_TIMEOUT_SECONDS": str(c.action_timeout),
            # A ticket of a crashed instance blocks its conversation until it
            # expires (Rasa's default: 60 s). A turn takes well under a second,
            # plus at most the action timeout.
            "TICKET_LOCK_LIFETIME": os.environ.get("TICKET_LOCK_LIFETIME", str(c.action_timeout + 5)),
            # One request at a time per process touches the tracker store.
            "SQL_POOL_SIZE": os.environ.get("SQL_POOL_SIZE", "5"),
            "SQL_MAX_OVERFLOW": os.environ.get("SQL_MAX_OVERFLOW", "10"),
            "SANIC_REQUEST_MAX_SIZE": os.environ.get("SANIC_REQUEST_MAX_SIZE", str(1024 * 1024)),
            **c.extra_env,
        }

    # --- helpers ------------------------------------------------------------------

    def _spawn(self, name: str, command: List[str], env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        # Own process group: Ctrl+C reaches the manager only, which stops
        # the services in order.
        proc = subprocess.Popen(command, cwd=ROOT, env=env or self.env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def _stop(self, name: str, timeout: float = 20, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    @staticmethod
    def _wait_http(url: str, timeout: float, proc: Optional[subprocess.Popen] = None, ok=(200,)) -> None:
        import requests

        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{url}: process exited with {proc.returncode}")
            try:
                reply = requests.get(url, timeout=3)
                if reply.status_code in ok:
                    return
                last = f"HTTP {reply.status_code}: {reply.text[:300]}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.5)
        raise TimeoutError(f"{url} not healthy within {timeout:.0f} s ({last})")

    # --- PostgreSQL -----------------------------------------------------------------

    def _pg(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(self.run_as + list(args), check=True, capture_output=True, text=True, timeout=timeout)

    def start_pg(self) -> None:
        if self.pg_bindir is None:
            raise RuntimeError("PostgreSQL not found: apt-get install postgresql")
        data = self.pg_dir / "data"
        self.pg_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
            os.chown(self.pg_dir, user.pw_uid, user.pw_gid)
            self._pg_owner = (user.pw_uid, user.pw_gid)
            # The server runs as postgres: it must be able to reach its directory.
            self.base.chmod(self.base.stat().st_mode | 0o011)
        if not (data / "PG_VERSION").exists():
            initdb_with_password(
                lambda *auth: self._pg(str(self.pg_bindir / "initdb"), "-D", str(data), "-U", PG_USER, *auth,
                                       "-E", "UTF8", "--no-locale"),
                data, self.pg_dir, self.secrets.pg_password, self._pg_owner)
        options = (f"-p {self.config.pg_port} -k {self.pg_dir} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=300 -c shared_buffers=128MB")
        if self.config.fast_pg:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._pg_options = options
        self._pg_start()
        if trusts_anyone(data):  # made by an older profile: give it a password now
            require_password(self._pg_connect_trusting, data, self.secrets.pg_password, self._pg_owner,
                             lambda: self.pg_ctl("reload"))
        self._create_databases()

    def _pg_connect_trusting(self):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.config.pg_port, user=PG_USER, dbname="postgres")

    def _pg_start(self) -> None:
        # -l: the server must not inherit our pipes (pg_ctl restart has no -l).
        self._pg(str(self.pg_bindir / "pg_ctl"), "-D", str(self.pg_dir / "data"), "-o", self._pg_options,
                 "-l", str(self.pg_dir / "server.log"), "-w", "start")
        self.pg_started = True

    def pg_ctl(self, *args: str) -> None:
        self._pg(str(self.pg_bindir / "pg_ctl"), "-D", str(self.pg_dir / "data"), *args)

    def stop_pg(self, mode: str = "fast") -> None:
        if self.pg_started:
            self.pg_ctl("-m", mode, "-w", "stop")
            self.pg_started = False

    def restart_pg(self, mode: str = "fast") -> None:
        """A database restart as an operator or a package upgrade does it."""
        self.stop_pg(mode)
        self._pg_start()

    def _create_databases(self) -> None:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.config.pg_port, user=PG_USER, dbname="postgres",
                                password=self.secrets.pg_password)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for db in (TRACKER_DB, STATUS_DB):
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
                    if cur.fetchone() is None:
                        cur.execute(f'CREATE DATABASE "{db}"')
        finally:
            conn.close()

    def migrate(self) -> None:
        env = self.env()
        py = sys.executable
        subprocess.run([py, "-m", "hotline.status", "init"], cwd=ROOT, env=env, check=True,
                       capture_output=True, text=True)
        if self.config.load_demo:
            subprocess.run([py, "-m", "hotline.status", "load-demo"], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True)

    # --- Redis ------------------------------------------------------------------------

    def start_redis(self) -> None:
        redis_dir = self.base / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        redis = shutil.which("redis-server") or "/usr/bin/redis-server"
        password = self.secrets.redis_password
        # The password only in the file: redis-server's argv is visible to every local user.
        config = redis_config(redis_dir / "redis.conf", password)
        proc = self._spawn("redis", [redis, str(config), "--port", str(self.config.redis_port),
                                     "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--dir", str(redis_dir),
                                     "--protected-mode", "yes", "--daemonize", "no"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("redis-server exited; see " + str(self.log_dir / "redis.log"))
            try:
                with socket.create_connection(("127.0.0.1", self.config.redis_port), timeout=1) as s:
                    s.sendall(f"AUTH {password}\r\nPING\r\n".encode())
                    reply = b""
                    while reply.count(b"\r\n") < 2:
                        chunk = s.recv(64)
                        if not chunk:
                            break
                        reply += chunk
                    if reply.startswith(b"+OK") and b"+PONG" in reply:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError("redis-server did not answer")

    def stop_redis(self) -> None:
        self._stop("redis")

    # --- action servers and Rasa -----------------------------------------------------

    def start_action_server(self, i: int) -> subprocess.Popen:
        env = {**self.env(), "HOTLINE_SERVICE": "actions", "HOTLINE_INSTANCE": f"actions-{i + 1}"}
        return self._spawn(f"actions-{i + 1}", [sys.executable, "-m", "hotline.action_server",
                                                "--port", str(self.action_ports[i])], env)

    def wait_action_server(self, i: int, timeout: float = 120) -> None:
        self._wait_http(f"{self.action_url(i)}/ops/health", timeout, self.procs[f"actions-{i + 1}"])

    def wait_actions_lb(self, timeout: float = 30) -> None:
        """Until nginx passes calls to an action server again: after both
        failed, nginx retries them once its fail_timeout (5 s) is over."""
        self._wait_http(f"http://127.0.0.1:{self.config.actions_lb_port}/health", timeout)

    def stop_action_server(self, i: int) -> None:
        self._stop(f"actions-{i + 1}")

    def model(self) -> Path:
        if self.config.model is None:
            from hotline.nlu.training import model_path

            self.config.model = model_path()
        if not self.config.model.exists():
            raise RuntimeError(f"model {self.config.model} is missing: run `make train` first")
        return self.config.model

    def start_rasa(self, i: int) -> subprocess.Popen:
        # Rasa's API key: hotline.rasa_server turns it into --jwt-secret in-process.
        env = {**self.env(), "HOTLINE_SERVICE": "rasa", "HOTLINE_INSTANCE": f"rasa-{i + 1}",
               "RASA_API_TOKEN": self.config.api_token}
        return self._spawn(f"rasa-{i + 1}", self.rasa_command(i), env)

    def rasa_command(self, i: int) -> List[str]:
        return [
            sys.executable, "-m", "hotline.rasa_server", "run", "--interface", "127.0.0.1",
            "--port", str(self.rasa_ports[i]),
            "--model", str(self.model()),
            "--endpoints", str(DEPLOY / "endpoints.prod.yml"),
            "--credentials", str(self.config.credentials),
            "--logging-config-file", str(DEPLOY / "logging.prod.yml"),
            # The HTTP API (trackers, model) is for operators on loopback only,
            # behind a bearer token (hotline.rasa_api); nginx does not route it.
            "--enable-api",
        ]

    def wait_rasa(self, i: int, timeout: float = 300) -> None:
        self._wait_http(f"{self.rasa_url(i)}/ops/health", timeout, self.procs[f"rasa-{i + 1}"])

    def kill_rasa(self, i: int) -> None:
        """SIGKILL: a crash, not a shutdown."""
        self._stop(f"rasa-{i + 1}", sig=signal.SIGKILL)

    def stop_rasa(self, i: int) -> None:
        self._stop(f"rasa-{i + 1}")

    # --- nginx -------------------------------------------------------------------------

    def render_nginx(self) -> Path:
        c = self.config
        prefix = self.base / "nginx"
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        user_directive = ""
        if os.geteuid() == 0:
            worker = "www-data"
            try:
                user = pwd.getpwnam(worker)
            except KeyError:
                worker, user = "nobody", pwd.getpwnam("nobody")
            user_directive = f"user {worker};"
            for path in [prefix / "tmp", *(prefix / "tmp").iterdir()]:
                os.chown(path, user.pw_uid, user.pw_gid)
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.rasa_ports)
        actions = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.action_ports)
        text = (DEPLOY / "nginx.conf.template").read_text()
        for key, value in {
            "USER_DIRECTIVE": user_directive, "PREFIX": str(prefix), "RASA_SERVERS": servers,
            "ACTION_SERVERS": actions, "PUBLIC_PORT": str(c.nginx_port), "ACTIONS_PORT": str(c.actions_lb_port),
            "REST_IP_RATE": str(c.rest_ip_rate), "REST_IP_BURST": str(c.rest_ip_burst),
            "ACTION_TIMEOUT": str(c.action_timeout),
        }.items():
            text = text.replace(f"@@{key}@@", value)
        conf = prefix / "nginx.conf"
        conf.write_text(text)
        return conf

    def start_nginx(self) -> None:
        conf = self.render_nginx()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        prefix = str(conf.parent)
        check = subprocess.run([nginx, "-t", "-p", prefix, "-c", str(conf), "-e", f"{prefix}/error.log"],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {check.stderr}")
        proc = self._spawn("nginx", [nginx, "-p", prefix, "-c", str(conf), "-e", f"{prefix}/error.log",
                                     "-g", "daemon off;"])
        self._wait_http(f"{self.public_url}/nginx-health", 20, proc)

    def stop_nginx(self) -> None:
        self._stop("nginx", sig=signal.SIGQUIT)

    # --- whole profile ---------------------------------------------------------------

    def start(self, log=print) -> None:
        try:
            log("PostgreSQL ...")
            self.start_pg()
            log("Redis ...")
            self.start_redis()
            log("status store migrations ...")
            self.migrate()
            self.model()
            log(f"{self.config.action_instances} action servers, {self.config.rasa_instances} Rasa instances ...")
            for i in range(self.config.action_instances):
                self.start_action_server(i)
            for i in range(self.config.rasa_instances):
                self.start_rasa(i)
            log("nginx ...")
            self.start_nginx()
            for i in range(self.config.action_instances):
                self.wait_action_server(i)
            self.wait_actions_lb()
            for i in range(self.config.rasa_instances):
                self.wait_rasa(i)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.stop_nginx()
        for i in range(len(self.rasa_ports)):
            self.stop_rasa(i)
        for i in range(len(self.action_ports)):
            self.stop_action_server(i)
        self.stop_redis()
        try:
            self.stop_pg()
        except Exception:
            pass

    def rasa_pids(self) -> Dict[str, int]:
        return {name: p.pid for name, p in self.procs.items() if p.poll() is None}

    def banner(self) -> str:
        lines = [
            "",
            "=" * 72,
            f"Горячая линия — производственный профиль: {self.config.rasa_instances} экз. Rasa, "
            f"{self.config.action_instances} сервера действий",
            "",
            f"Вход (nginx):       {self.public_url}",
            f"  REST:             {self.public_url}/webhooks/rest/webhook",
            f"  Telegram:         {self.public_url}/webhooks/telegram/webhook",
            f"  VK:               {self.public_url}/webhooks/vk/",
            f"  веб-виджет:       {self.public_url}/socket.io/",
            "",
            "Здоровье и метрики (только loopback):",
        ]
        for i in range(self.config.rasa_instances):
            lines.append(f"  rasa-{i + 1}:           {self.rasa_url(i)}/ops/health   {self.rasa_url(i)}/ops/metrics")
        for i in range(self.config.action_instances):
            lines.append(f"  actions-{i + 1}:        {self.action_url(i)}/ops/health   "
                         f"{self.action_url(i)}/ops/metrics")
        lines += [
            "",
            f"PostgreSQL:         {self.pg_url(TRACKER_DB, secret=False)}",
            f"                    {self.pg_url(STATUS_DB, secret=False)}",
            f"Redis:              redis://:***@127.0.0.1:{self.config.redis_port}",
            f"Пароли PostgreSQL и Redis: {self.secrets.dir}/ (только для владельца)",
            f"Журналы (JSON):     {self.log_dir}/",
            "API Rasa:           Authorization: Bearer $(.venv/bin/python -m hotline.rasa_api token)",
            "",
            "Пример:",
            f"  curl -s -X POST {self.public_url}/webhooks/rest/webhook \\",
            "       -H 'Content-Type: application/json' \\",
            "       -d '{\"sender\": \"demo\", \"message\": \"какие документы нужны для загранпаспорта\"}'",
            "",
            "Остановить: Ctrl+C",
            "=" * 72,
        ]
        return "\n".join(lines)

    def supervise(self, stop_flag: List[bool]) -> None:
        """Restart Rasa or action processes that die, until stop_flag[0]."""
        while not stop_flag[0]:
            for name, proc in list(self.procs.items()):
                if proc.poll() is None or stop_flag[0]:
                    continue
                if name.startswith("rasa-"):
                    print(f"{name} exited with {proc.returncode}; restarting", flush=True)
                    self.start_rasa(int(name.split("-")[1]) - 1)
                elif name.startswith("actions-"):
                    print(f"{name} exited with {proc.returncode}; restarting", flush=True)
                    self.start_action_server(int(name.split("-")[1]) - 1)
                elif name in ("redis", "nginx"):
                    print(f"{name} exited with {proc.returncode}; restarting", flush=True)
                    (self.start_redis if name == "redis" else self.start_nginx)()
            time.sleep(2)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotline.ops.supervisor", description=__doc__.split("\n\n")[0])
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
