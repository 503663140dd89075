#!/usr/bin/env bash
# Start the action server and the Rasa server on embedded defaults.
# Only Rasa's port (channel webhooks, the widget's socket) listens beyond
# loopback (RASA_HOST, default all interfaces); its HTTP API needs a bearer
# token signed with var/rasa-api.secret (hotline.rasa_api). The action server,
# the console, the trainers' workbench and the demo page stay on 127.0.0.1
# unless ACTION_HOST, HANDOFF_CONSOLE_HOST or WEBCHAT_HOST say otherwise (the
# workbench always: it edits the project's files). No secret is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_PORT="${RASA_PORT:-5005}"
ACTION_PORT="${ACTION_PORT:-5055}"
MODEL=$(.venv/bin/python -m hotline.nlu.training --print-path)
# Operators' hours are a deployment setting (HANDOFF_HOURS="пн-пт 09:00-18:00",
# docs/handoff.md); unset, citizens read the article's «в стандартные рабочие
# часы» and every request joins the live queue.
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p var/log

# Status store: migrate to the newest schema; demo applications on first run.
.venv/bin/python -m hotline.status init
.venv/bin/python -m hotline.status load-demo

# The same action server entry as production (metrics, /ops/health, no tracker in error bodies).
.venv/bin/python -m hotline.action_server --host "${ACTION_HOST:-127.0.0.1}" --port "$ACTION_PORT" \
  > var/log/actions.log 2>&1 &
ACTIONS_PID=$!
WEBCHAT_PORT="${WEBCHAT_PORT:-8080}"
export WEBCHAT_PORT
.venv/bin/python -m connectors.webchat.serve --host "${WEBCHAT_HOST:-127.0.0.1}" --port "$WEBCHAT_PORT" \
  --rasa-url "http://localhost:${RASA_PORT}" > var/log/webchat.log 2>&1 &
WEBCHAT_PID=$!
CONSOLE_PORT="${HANDOFF_CONSOLE_PORT:-5077}"
# Prints the first admin's password once, when it creates the account; later runs only point at the file.
.venv/bin/python -m handoff.admin ensure-admin --password-file var/console-admin.txt
# The demo console is plain HTTP on localhost, so its cookies cannot be Secure;
# everywhere else they are (HANDOFF_SECURE_COOKIES defaults to 1).
HANDOFF_SECURE_COOKIES=0 HANDOFF_RASA_URL="http://localhost:${RASA_PORT}" \
  .venv/bin/python -m handoff.console --host 127.0.0.1 --port "$CONSOLE_PORT" > var/log/console.log 2>&1 &
CONSOLE_PID=$!
# The trainers' workbench: the console's accounts with the trainer role (admins too).
WORKBENCH_PORT="${WORKBENCH_PORT:-5078}"
HANDOFF_SECURE_COOKIES=0 .venv/bin/python -m workbench --host 127.0.0.1 --port "$WORKBENCH_PORT" \
  > var/log/workbench.log 2>&1 &
WORKBENCH_PID=$!
trap 'kill $ACTIONS_PID $WEBCHAT_PID $CONSOLE_PID $WORKBENCH_PID 2>/dev/null || true' EXIT

sed "s#localhost:5055#localhost:${ACTION_PORT}#" endpoints.yml > var/endpoints.run.yml

(
  for _ in $(seq 1 180); do
    if curl -fs "http://localhost:${RASA_PORT}/" >/dev/null 2>&1; then
      cat <<TXT

==================================================================
Ассистент горячей линии запущен: http://localhost:${RASA_PORT}

Сообщение через REST:
  curl -s -X POST http://localhost:${RASA_PORT}/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "demo", "message": "какие документы нужны для загранпаспорта"}'

Веб-чат на демо-странице портала:            http://localhost:${WEBCHAT_PORT}/
Консоль операторов:                           http://localhost:${CONSOLE_PORT}/
  логин и пароль первого администратора — в файле var/console-admin.txt
  (доступен только владельцу; новые операторы — make operator)
Мастерская тренеров:                          http://localhost:${WORKBENCH_PORT}/
  вход — администратор или тренер (make trainer, роль выдаёт администратор)
API Rasa: только с токеном (.venv/bin/python -m hotline.rasa_api token),
  ключ в var/rasa-api.secret; как сменить секреты — docs/security.md
Интерактивная консоль (в другом терминале):  make shell
Журнал сервера действий:                      var/log/actions.log
Остановить: Ctrl+C
==================================================================
TXT
      exit 0
    fi
    sleep 1
  done
  echo "Rasa server did not answer on port ${RASA_PORT} within 3 minutes" >&2
) &

# --enable-api is safe here: hotline.rasa_server requires an auth token for the
# API (auth_token = RASA_API_TOKEN or var/rasa-api.secret, mode 600) and keeps it
# off argv. Only this port is public; everything else binds to 127.0.0.1.
exec_rasa() {
  .venv/bin/python -m hotline.rasa_server run --enable-api --interface "${RASA_HOST:-0.0.0.0}" --port "$RASA_PORT" \
    --model "$MODEL" --endpoints var/endpoints.run.yml --credentials credentials.yml
}
exec_rasa
