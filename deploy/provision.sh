#!/usr/bin/env bash
# Installs tailapp on one Debian 12 host: Redis (AOF, localhost only), the app in
# /opt/tailapp with its venv (its build copies the browser packages from npm into the
# package), and the two systemd services.
# Safe to run again: secrets in /etc/tailapp/tailapp.env are kept, everything else
# is brought to the state below. Vagrant runs it as root from deploy/provision.sh;
# on another host run `sudo TAILAPP_SRC=/path/to/checkout deploy/provision.sh`.
set -euo pipefail

SRC=${TAILAPP_SRC:-/vagrant}
APP=/opt/tailapp
DATA=/var/lib/tailapp
ENV_FILE=/etc/tailapp/tailapp.env
PORT=5000

install_packages() {
    local packages=(redis-server python3 python3-venv rsync curl ca-certificates)
    # A Node.js from elsewhere (e.g. NodeSource) bundles npm and conflicts with Debian's.
    command -v npm >/dev/null || packages+=(nodejs npm)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${packages[@]}"
}

configure_redis() {
    install -m 0644 "$SRC/deploy/redis-tailapp.conf" /etc/redis/tailapp.conf
    grep -qxF 'include /etc/redis/tailapp.conf' /etc/redis/redis.conf ||
        echo 'include /etc/redis/tailapp.conf' >>/etc/redis/redis.conf
    systemctl enable --now redis-server
    # Applied live rather than by a restart: CONFIG SET appendonly yes first writes the
    # current data set to the AOF, while a restart with a new, empty AOF would drop it.
    redis-cli CONFIG SET appendonly yes >/dev/null
    redis-cli CONFIG SET appendfsync everysec >/dev/null
    redis-cli CONFIG SET maxmemory-policy noeviction >/dev/null
}

create_user() {
    id -u tailapp >/dev/null 2>&1 ||
        useradd --system --user-group --home-dir "$DATA" --shell /usr/sbin/nologin tailapp
    install -d -o tailapp -g tailapp -m 0750 "$DATA"
}

install_app() {
    install -d -m 0755 "$APP"
    # Code is root's and world-readable; the venv, node_modules and build output are
    # made here, so they are neither copied nor deleted.
    rsync -a --delete --chown=root:root --chmod=go+rX,go-w \
        --exclude=.git/ --exclude=.venv/ --exclude=venv/ --exclude=node_modules/ \
        --exclude=/tailapp/static/vendor/ --exclude=/build/ --exclude=/dist/ \
        --exclude=__pycache__/ --exclude='*.egg-info/' "$SRC/" "$APP/"
    [[ -x $APP/.venv/bin/python ]] || python3 -m venv "$APP/.venv"
    # The build runs `npm ci` and copies the browser packages into tailapp/static/vendor.
    "$APP/.venv/bin/pip" install --quiet --disable-pip-version-check -e "$APP"
}

env_value() {
    [[ -f $ENV_FILE ]] && sed -n "s/^$1=//p" "$ENV_FILE" | grep .
}

new_secret() {
    python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
}

write_env() {
    local secret token
    secret=$(env_value TAILAPP_SECRET_KEY) || secret=$(new_secret)
    token=$(env_value TAILAPP_AUTH_TOKEN) || token=$(new_secret)
    install -d -o root -g tailapp -m 0750 /etc/tailapp
    install -o root -g tailapp -m 0640 /dev/stdin "$ENV_FILE" <<EOF
# Written by deploy/provision.sh: edits are lost on re-provision, except the two secrets.
# Binding 0.0.0.0 (needed for Vagrant's port forward) is allowed because auth is on.
TAILAPP_HOST=0.0.0.0
TAILAPP_PORT=$PORT
TAILAPP_REDIS_URL=redis://127.0.0.1:6379/0
TAILAPP_DATA_DIR=$DATA
TAILAPP_SECRET_KEY=$secret
TAILAPP_AUTH_TOKEN=$token
EOF
}

start_services() {
    install -m 0644 "$SRC"/deploy/systemd/tailapp-*.service /etc/systemd/system/
    systemctl daemon-reload
    systemctl enable tailapp-server.service tailapp-worker.service
    systemctl restart tailapp-server.service tailapp-worker.service
}

wait_healthy() {
    local _
    for _ in $(seq 60); do
        if curl -fsS "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
            echo
            return 0
        fi
        sleep 1
    done
    curl -fsS "http://127.0.0.1:$PORT/healthz" || true
    journalctl -u tailapp-server.service -n 50 --no-pager >&2
    echo "tailapp-server did not answer /healthz within 60 s" >&2
    return 1
}

main() {
    install_packages
    configure_redis
    create_user
    install_app
    write_env
    start_services
    wait_healthy
    echo "tailapp is up: http://127.0.0.1:$PORT"
    echo "auth token: $(env_value TAILAPP_AUTH_TOKEN)"
}

main "$@"
