#!/usr/bin/env bash
# Production profile on this machine (loopback): PostgreSQL, Redis, nginx,
# N Rasa instances and 2 action servers, supervised until Ctrl+C.
#   bash deploy/run_prod.sh [--instances N] [--no-demo]
# Settings by environment: see docs/production.md (RASA_INSTANCES,
# PROD_NGINX_PORT, RATE_LIMIT_MESSAGES, RETENTION_DAYS, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in nginx redis-server; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nginx redis-server postgresql" >&2; exit 2; }
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "missing PostgreSQL: apt-get install postgresql" >&2; exit 2; }

export TF_CPP_MIN_LOG_LEVEL=2
# Trains only if the model's inputs changed (fingerprinted, file-locked).
.venv/bin/python -m hotline.nlu.training
exec .venv/bin/python -m hotline.ops.supervisor run "$@"
