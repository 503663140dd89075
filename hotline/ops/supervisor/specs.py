"""What each process of the production profile is: its addresses, its
environment, its command line, nginx's configuration, the banner — nothing
here starts or stops a process."""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import quote

from hotline.ops.ports import free_port
from hotline.ops.supervisor.config import DEPLOY, STATUS_DB, TRACKER_DB, ProdConfig, find_pg_bindir
from hotline.prod_secrets import PG_USER, ProfileSecrets


class ProcessSpecs:
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

    # --- command lines ------------------------------------------------------------

    def action_command(self, i: int) -> List[str]:
        return [sys.executable, "-m", "hotline.action_server", "--port", str(self.action_ports[i])]

    def model(self) -> Path:
        if self.config.model is None:
            from hotline.nlu.training import model_path

            self.config.model = model_path()
        if not self.config.model.exists():
            raise RuntimeError(f"model {self.config.model} is missing: run `make train` first")
        return self.config.model

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

    # --- nginx's configuration and the banner ----------------------------------------

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
