"""What the production profile is configured with: ports, instance counts,
directories, limits (from hotline.settings), and where PostgreSQL lives."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

from hotline import settings
from hotline.ops.ports import free_port
from hotline.paths import ROOT
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
