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

Modules: config.py (ports, counts, directories), specs.py (what each process
is: addresses, environment, command line, nginx configuration), services.py
(starting, waiting for, stopping each process), profile.py (the whole
profile in order, restarting what dies), __main__.py (the command line).
"""
from hotline.ops.supervisor.config import DEPLOY, STATUS_DB, TRACKER_DB, ProdConfig, find_pg_bindir
from hotline.ops.supervisor.profile import ProdProfile

__all__ = ["DEPLOY", "STATUS_DB", "TRACKER_DB", "ProdConfig", "ProdProfile", "find_pg_bindir"]
