"""The whole production profile: start everything in order, stop it in
reverse order, restart a process that dies."""
from __future__ import annotations

import time
from typing import Dict, List

from hotline.ops.supervisor.services import ServiceControl


class ProdProfile(ServiceControl):
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
