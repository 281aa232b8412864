#!/usr/bin/env bash
# Set up what tailapp needs on a fresh Debian/Ubuntu machine, then run the app or the whole test suite.
#   ./dev.sh run   the app on http://127.0.0.1:5000 (embedded Redis unless TAILAPP_REDIS_URL is set)
#   ./dev.sh test  every test (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
APT_UPDATED=

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  [ -n "$APT_UPDATED" ] || { as_root apt-get update -qq; APT_UPDATED=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"
      return
    fi
  done
  echo "tailapp needs Python 3.11 or newer" >&2
  exit 1
}

setup_python() {
  local python
  python=$(find_python)
  if [ ! -x "$VENV/bin/python" ]; then
    # Debian's python3 comes without venv/ensurepip until python3-venv is installed.
    "$python" -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; apt_install python3-venv && "$python" -m venv "$VENV"; }
  fi
  if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[test]"
    touch "$VENV/.installed"
  fi
}

setup_frontend() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

copy_vendor() {
  # The browser packages the server serves, from node_modules into tailapp/static/vendor (a wheel build
  # does the same); cheap, so done on every run in case the lockfile changed.
  "$VENV/bin/python" -m tailapp.vendor >/dev/null
}

setup_test_tools() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v vagrant >/dev/null || missing+=(vagrant)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v redis-server >/dev/null || missing+=(redis-server)  # the production-path test uses Debian's
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

case "${1:-}" in
  run)
    shift
    setup_frontend
    setup_python
    copy_vendor
    exec "$VENV/bin/tailapp" dev "$@"
    ;;
  test)
    shift
    setup_frontend
    setup_python
    copy_vendor
    setup_test_tools
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh run | ./dev.sh test [pytest arguments]" >&2
    exit 2
    ;;
esac
