#!/usr/bin/env bash
# Debian's packaged Horizon (openstack-dashboard, Zed) with Tally's plugin, for the OpenStack test tier:
#   horizon.sh install            apt-get openstack-dashboard + uwsgi + chromium (if missing), then install the
#                                 plugin: package copy + .pth, enabled files, settings snippet, collectstatic +
#                                 compress. Needs the built bundle (npm run build). A plugin that does not
#                                 import is removed again at once (Debian's dpkg trigger would fail otherwise).
#   horizon.sh uninstall          remove every file install added, then collectstatic + compress again
#   horizon.sh start STATE_DIR    uwsgi --http11-socket 127.0.0.1:$HORIZON_PORT, file sessions in STATE_DIR,
#                                 Keystone at $KEYSTONE_URL; waits for the login page; PID in STATE_DIR
#   horizon.sh stop STATE_DIR     stop exactly that process group
# Env: HORIZON_PORT (8080), KEYSTONE_URL (http://127.0.0.1:5000/v3), HORIZON_PROCESSES (2).
set -euo pipefail
cmd=${1:?install|uninstall|start|stop}
here=$(cd "$(dirname "$0")" && pwd)
plugin_src="$here/../../plugins/horizon-panel/tally_dashboard"
HORIZON_PORT=${HORIZON_PORT:-8080}
KEYSTONE_URL=${KEYSTONE_URL:-http://127.0.0.1:5000/v3}

dash=/usr/lib/python3/dist-packages/openstack_dashboard
enabled_dir=$dash/local/enabled
snippet=/etc/openstack-dashboard/local_settings.d/_9100_tally.py
lib=/usr/local/lib/tally-dashboard
pth=/usr/lib/python3/dist-packages/tally-dashboard.pth
manage=/usr/share/openstack-dashboard/manage.py

log() { printf '[horizon.sh] %s\n' "$*" >&2; }

collect() {
  log "collectstatic + compress"
  /usr/bin/python3 "$manage" collectstatic --noinput --clear -v0
  /usr/bin/python3 "$manage" compress --force -v0
}

remove_plugin() {
  rm -f "$enabled_dir"/_910[0-9]0_tally_*.py "$snippet" "$pth"
  rm -rf "$lib"
}

case "$cmd" in
install)
  need=()
  for pkg in openstack-dashboard uwsgi-core uwsgi-plugin-python3 chromium; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done
  if ((${#need[@]})); then
    # Debian's postinst must not start a stock service on this machine.
    made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}"
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  fi
  if [ ! -f "$plugin_src/static/tally_dashboard/app.js" ]; then
    echo "the UI bundle is not built: run 'npm run build' first ($plugin_src/static/tally_dashboard/app.js is missing)" >&2
    exit 1
  fi
  # A copy, not a link to the checkout: a deleted checkout must not leave Horizon unable to import the plugin.
  remove_plugin
  mkdir -p "$lib"
  cp -r "$plugin_src" "$lib/"
  find "$lib" -name __pycache__ -prune -exec rm -rf {} +
  rm -rf "$lib/tally_dashboard/tests"
  echo "$lib" > "$pth"
  cp "$plugin_src"/enabled/_910[0-9]0_tally_*.py "$enabled_dir/"
  # Active only in the uwsgi that horizon.sh start runs (it sets TALLY_HORIZON_STATE): other users of this
  # Horizon keep Debian's settings.
  cat > "$snippet" <<'PY'
# Installed by Tally's scripts/openstack/horizon.sh (removed by its uninstall).
import os as _os
if _os.environ.get('TALLY_HORIZON_STATE'):
    DEBUG = False
    ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
    OPENSTACK_HOST = '127.0.0.1'
    OPENSTACK_KEYSTONE_URL = _os.environ['TALLY_HORIZON_KEYSTONE_URL']
    OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
    # Debian's locmem cache is per process: sessions must live in files with several workers.
    SESSION_ENGINE = 'django.contrib.sessions.backends.file'
    SESSION_FILE_PATH = _os.path.join(_os.environ['TALLY_HORIZON_STATE'], 'sessions')
    TALLY_BILLING_SERVICE_TYPE = _os.environ.get('TALLY_HORIZON_BILLING_TYPE', 'billing')
PY
  if ! /usr/bin/python3 "$manage" check >/dev/null || ! collect; then
    log "the plugin does not load in Horizon: removing it again"
    remove_plugin
    collect || true
    exit 1
  fi
  log "plugin installed: $lib, $pth, $enabled_dir/_910*_tally_*.py, $snippet"
  ;;
uninstall)
  remove_plugin
  collect
  log "plugin removed"
  ;;
start)
  state=${2:?state dir}
  mkdir -p "$state/horizon/sessions"
  pidfile="$state/horizon/uwsgi.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "already running (pid $(cat "$pidfile"))"
    exit 0
  fi
  setsid uwsgi --plugins python3 --http11-socket "127.0.0.1:$HORIZON_PORT" \
    --wsgi-file /usr/share/openstack-dashboard/wsgi.py \
    --static-map /static=/var/lib/openstack-dashboard/static \
    --master --die-on-term --processes "${HORIZON_PROCESSES:-2}" --threads 2 --buffer-size 65535 \
    --env "TALLY_HORIZON_STATE=$state/horizon" --env "TALLY_HORIZON_KEYSTONE_URL=$KEYSTONE_URL" \
    --logto "$state/horizon/uwsgi.log" < /dev/null > /dev/null 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 120); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$HORIZON_PORT/auth/login/" 2>/dev/null; then
      log "Horizon running at http://127.0.0.1:$HORIZON_PORT/ (pid $(cat "$pidfile"), Keystone $KEYSTONE_URL)"
      exit 0
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.5
  done
  echo "Horizon did not start; log:" >&2
  tail -40 "$state/horizon/uwsgi.log" >&2 || true
  exit 1
  ;;
stop)
  state=${2:?state dir}
  pidfile="$state/horizon/uwsgi.pid"
  [ -f "$pidfile" ] || exit 0
  pid=$(cat "$pidfile")
  # setsid made it a process-group leader: its workers go with it.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 40); do
    st=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    # A zombie (Z) has stopped; PID 1 here may reap it late.
    if [ -z "$st" ] || [[ "$st" == Z* ]]; then break; fi
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "Horizon stopped"
  ;;
*)
  echo "usage: $0 install|uninstall|start STATE_DIR|stop STATE_DIR" >&2
  exit 2
  ;;
esac
