#!/usr/bin/env bash
# Debian packages the test suite starts or drives itself: PostgreSQL (status
# store, handoff queue, production profile), nginx and Redis (production
# profile), Chromium (widget and consoles in a real browser), Node.js and npm
# (axe-core, the accessibility audit injected into those pages), espeak-ng and
# sox (voice). Nothing runs as a system service: the tests start their own.
# Installs what is missing when run as root; otherwise names the one command.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v curl >/dev/null || need+=(curl)
command -v git >/dev/null || need+=(git)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Для тестов нужны пакеты Debian: ${need[*]}." >&2
  echo "Установите их одной командой: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo ">> installing Debian packages for the tests: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
