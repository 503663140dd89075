"""Starting, waiting for and stopping each process of the production
profile: PostgreSQL, Redis, the action servers, Rasa, nginx."""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional

from hotline.ops.supervisor.config import STATUS_DB, TRACKER_DB
from hotline.ops.supervisor.specs import ProcessSpecs
from hotline.paths import ROOT
from hotline.prod_secrets import (PG_USER, initdb_with_password, redis_config, require_password,
                                  trusts_anyone)


class ServiceControl(ProcessSpecs):
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
        return self._spawn(f"actions-{i + 1}", self.action_command(i), env)

    def wait_action_server(self, i: int, timeout: float = 120) -> None:
        self._wait_http(f"{self.action_url(i)}/ops/health", timeout, self.procs[f"actions-{i + 1}"])

    def wait_actions_lb(self, timeout: float = 30) -> None:
        """Until nginx passes calls to an action server again: after both
        failed, nginx retries them once its fail_timeout (5 s) is over."""
        self._wait_http(f"http://127.0.0.1:{self.config.actions_lb_port}/health", timeout)

    def stop_action_server(self, i: int) -> None:
        self._stop(f"actions-{i + 1}")

    def start_rasa(self, i: int) -> subprocess.Popen:
        # Rasa's API key: hotline.rasa_server turns it into --jwt-secret in-process.
        env = {**self.env(), "HOTLINE_SERVICE": "rasa", "HOTLINE_INSTANCE": f"rasa-{i + 1}",
               "RASA_API_TOKEN": self.config.api_token}
        return self._spawn(f"rasa-{i + 1}", self.rasa_command(i), env)

    def wait_rasa(self, i: int, timeout: float = 300) -> None:
        self._wait_http(f"{self.rasa_url(i)}/ops/health", timeout, self.procs[f"rasa-{i + 1}"])

    def kill_rasa(self, i: int) -> None:
        """SIGKILL: a crash, not a shutdown."""
        self._stop(f"rasa-{i + 1}", sig=signal.SIGKILL)

    def stop_rasa(self, i: int) -> None:
        self._stop(f"rasa-{i + 1}")

    # --- nginx -------------------------------------------------------------------------

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
