#!/usr/bin/env bash
# Real Nova Zed from Debian on fake virt drivers, with Placement, Glance and a Neutron stand-in,
# for the OpenStack test tier (shared with the scheduler's tests):
#   nova.sh install          apt-get nova-api nova-conductor nova-scheduler nova-compute placement-api glance-api
#                            (if missing; a temporary policy-rc.d keeps Debian from starting anything)
#   nova.sh start STATE_DIR  everything on 127.0.0.1, in the background, PIDs in STATE_DIR/*.pid; waits until
#                            the compute hosts are up, mapped to cell1 and have resource providers; seeds flavors,
#                            an image, an aggregate with an availability zone; writes STATE_DIR/nova.env
#   nova.sh stop STATE_DIR   stop exactly the processes it started (by PID / process group; a zombie counts as
#                            stopped), then drop the RabbitMQ vhost
#
# Needs Keystone from keystone.sh already running: its env file (KEYSTONE_ENV, default STATE_DIR/../keystone/
# keystone.env) gives the URL and the private PostgreSQL cluster the Nova, Placement and Glance databases go into.
# Hold `flock /tmp/tally-openstack.lock` for as long as the services run (the ports are fixed and shared).
#
# Notifications: oslo.messaging on the machine's RabbitMQ (127.0.0.1:5672, guest) in a private vhost
# (NOVA_VHOST, default tally_nova; dropped by stop). A vhost keeps the bus apart from other tests without a
# second broker. Versioned notifications go to exchange `nova`, topic `versioned_notifications`
# (queue versioned_notifications.info), the legacy ones (NOVA_NOTIFICATION_FORMAT=both) to topic
# `notifications` (queue notifications.info). Nothing consumes those queues: a consumer binds its own queue.
#
# Environment (defaults):
#   NOVA_PORT 8774, PLACEMENT_PORT 8778, GLANCE_PORT 9292, NEUTRON_PORT 9696, NOVA_VHOST tally_nova,
#   NOVA_COMPUTE_HOSTS "tally-compute-1 tally-compute-2" (one nova-compute process per name),
#   NOVA_COMPUTE_DRIVER fake.MediumFakeDriver (10 VCPU, 8192 MB, 1028 GB per host; Zed's initial allocation
#   ratios 16.0 / 1.5 / 1.0 and 512 MB of reserved memory: Placement capacity 160 VCPU, 11520 MB, 1028 GB),
#   NOVA_NOTIFICATION_FORMAT both (versioned | unversioned | both), NOVA_NOTIFY_DRIVER messagingv2 (noop: none),
#   NOVA_NEW_RBAC true (enforce_new_defaults + enforce_scope in nova.conf; false: Zed's legacy rules),
#   NOVA_AGGREGATE tally-agg-1 and NOVA_AZ tally-az-1 (the first compute host is put in both).
# Rerunning `start` while everything runs only re-checks and rewrites nova.env.
set -euo pipefail
cmd=${1:?install|start|stop}
here=$(cd "$(dirname "$0")" && pwd)
NOVA_PORT=${NOVA_PORT:-8774}
PLACEMENT_PORT=${PLACEMENT_PORT:-8778}
GLANCE_PORT=${GLANCE_PORT:-9292}
NEUTRON_PORT=${NEUTRON_PORT:-9696}
VHOST=${NOVA_VHOST:-tally_nova}
HOSTS=${NOVA_COMPUTE_HOSTS:-tally-compute-1 tally-compute-2}
DRIVER=${NOVA_COMPUTE_DRIVER:-fake.MediumFakeDriver}
FORMAT=${NOVA_NOTIFICATION_FORMAT:-both}
NOTIFY_DRIVER=${NOVA_NOTIFY_DRIVER:-messagingv2}
NEW_RBAC=${NOVA_NEW_RBAC:-true}
AGGREGATE=${NOVA_AGGREGATE:-tally-agg-1}
AZ=${NOVA_AZ:-tally-az-1}
PY=/usr/bin/python3
PKGS="nova-api nova-conductor nova-scheduler nova-compute placement-api glance-api python3-openstackclient python3-psycopg2 uwsgi-core uwsgi-plugin-python3"

log() { printf '[nova.sh] %s\n' "$*" >&2; }

# Is the process with this PID alive? A zombie (state Z) has stopped: PID 1 here reaps orphans late.
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$st" ] && [[ "$st" != Z* ]]
}

running() { [ -f "$1" ] && alive "$(cat "$1")"; }

# Stop the process group whose leader's PID is in $1 (a file): TERM, then KILL after 15 s.
stop_group() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do alive "$pid" || break; sleep 0.5; done
  if alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

# Start "$@" in its own session unless $1 (a pid file) names a live process; output to $2.
launch() {
  local pidfile=$1 out=$2
  shift 2
  if running "$pidfile"; then return 0; fi
  setsid "$@" >"$out" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# Wait up to $2 seconds for the command "${@:3}" to succeed; the process in pid file $1 must stay alive.
wait_for() {
  local pidfile=$1 deadline=$((SECONDS + $2))
  shift 2
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$pidfile" ] && ! running "$pidfile"; then return 1; fi
    sleep 0.5
  done
  return 1
}

fail() {
  log "$1; logs:"
  shift
  for f in "$@"; do [ -f "$f" ] && { echo "== $f" >&2; tail -40 "$f" >&2; }; done
  exit 1
}

http_ok() { curl -fsS -o /dev/null --max-time 5 "$1"; }

case "$cmd" in
install)
  need=()
  for pkg in $PKGS; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done
  if ((${#need[@]})); then
    made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=1200 install -y --no-install-recommends "${need[@]}" \
      || { apt-get update -qq; apt-get -o DPkg::Lock::Timeout=1200 install -y --no-install-recommends "${need[@]}"; }
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  fi
  command -v rabbitmqctl >/dev/null || { echo "rabbitmq-server is missing (the machine's broker on 127.0.0.1:5672)" >&2; exit 1; }
  dpkg-query -W -f='nova ${Version}\n' nova-common
  ;;

start)
  state=${2:?state dir}
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  # Only look at the lock if someone made it: checking must not leave a file in /tmp.
  if [ -e /tmp/tally-openstack.lock ] && flock -n /tmp/tally-openstack.lock true 2>/dev/null; then
    log "warning: /tmp/tally-openstack.lock is not held; hold it while the services run (flock /tmp/tally-openstack.lock ...)"
  fi
  ks_env=${KEYSTONE_ENV:-$state/../keystone/keystone.env}
  [ -f "$ks_env" ] || { echo "no Keystone env file at $ks_env: start keystone.sh first or set KEYSTONE_ENV" >&2; exit 1; }
  ks_get() { sed -n "s/^$1=//p" "$ks_env" | head -1; }
  KS_URL=$(ks_get KEYSTONE_URL)
  PG_PORT=$(ks_get KEYSTONE_PG_PORT)
  PG_SOCK=$(ks_get KEYSTONE_PG_SOCKET)
  http_ok "$KS_URL" || { echo "Keystone does not answer at $KS_URL" >&2; exit 1; }
  logd=$state/log
  mkdir -p "$logd" "$state/nova" "$state/glance/images" "$state/glance/staging" "$state/placement"
  AMQP_BASE=${NOVA_AMQP_BASE:-guest:guest@127.0.0.1:5672}
  transport="rabbit://$AMQP_BASE/$VHOST"

  # 1. The bus: a private vhost on the machine's RabbitMQ.
  rabbitmqctl -q add_vhost "$VHOST" 2>/dev/null || true
  rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*'

  # 2. Databases in Keystone's private PostgreSQL cluster.
  psql_pg() { runuser -u postgres -- psql -h "$PG_SOCK" -p "$PG_PORT" -U postgres -qtAX "$@"; }
  for db in nova_api:nova nova:nova nova_cell0:nova placement:placement glance:glance; do
    name=${db%%:*} owner=${db##*:}
    if [ -z "$(psql_pg -c "select 1 from pg_roles where rolname='$owner'")" ]; then
      psql_pg -c "create role $owner login password '$owner-db-pass'"
    fi
    if [ -z "$(psql_pg -c "select 1 from pg_database where datname='$name'")" ]; then
      psql_pg -c "create database $name owner $owner"
    fi
  done
  dburl() { echo "postgresql+psycopg2://$2:$2-db-pass@127.0.0.1:$PG_PORT/$1"; }

  # 3. Keystone: service users, services, endpoints, Tally's Placement reader.
  KS_URL=$KS_URL NOVA_PORT=$NOVA_PORT PLACEMENT_PORT=$PLACEMENT_PORT GLANCE_PORT=$GLANCE_PORT NEUTRON_PORT=$NEUTRON_PORT \
    "$PY" "$here/nova-setup.py" register >"$state/register.env" 2>"$logd/register.log" \
    || fail "registering the services in Keystone failed" "$logd/register.log"

  authtoken() { # $1 user
    cat <<INI
[keystone_authtoken]
www_authenticate_uri = $KS_URL
auth_url = $KS_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $1-pass
INI
  }
  svc_auth() { # $1 section, $2 user
    cat <<INI
[$1]
auth_type = password
auth_url = $KS_URL
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $2-pass
region_name = RegionOne
INI
  }

  # 4. Placement.
  {
    cat <<INI
[DEFAULT]
log_file = $logd/placement.log
[api]
auth_strategy = keystone
[placement_database]
connection = $(dburl placement placement)
INI
    authtoken placement
  } >"$state/placement/placement.conf"
  if [ ! -f "$state/placement/.synced" ]; then
    placement-manage --config-file "$state/placement/placement.conf" db sync >>"$logd/placement-manage.log" 2>&1 \
      || fail "placement-manage db sync failed" "$logd/placement-manage.log"
    touch "$state/placement/.synced"
  fi

  # 5. Glance.
  {
    cat <<INI
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $GLANCE_PORT
workers = 1
log_file = $logd/glance-api.log
node_staging_uri = file://$state/glance/staging
[database]
connection = $(dburl glance glance)
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $state/glance/images/
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
INI
    authtoken glance
  } >"$state/glance/glance-api.conf"
  if [ ! -f "$state/glance/.synced" ]; then
    glance-manage --config-file "$state/glance/glance-api.conf" db_sync >>"$logd/glance-manage.log" 2>&1 \
      || fail "glance-manage db_sync failed" "$logd/glance-manage.log"
    touch "$state/glance/.synced"
  fi

  # 6. Nova: one nova.conf for api/conductor/scheduler, one file per compute host without the databases
  # (nova-compute refuses to run with database access).
  nova_common() { # $1 host
    local notif_format=$FORMAT
    cat <<INI
[DEFAULT]
host = $1
compute_driver = $DRIVER
transport_url = $transport
enabled_apis = osapi_compute
my_ip = 127.0.0.1
state_path = $state/nova/$1
instances_path = $state/nova/$1/instances
allow_resize_to_same_host = true
[oslo_concurrency]
lock_path = $state/nova/$1/lock
[api]
auth_strategy = keystone
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 10
[glance]
endpoint_override = http://127.0.0.1:$GLANCE_PORT
[neutron]
endpoint_override = http://127.0.0.1:$NEUTRON_PORT
INI
    svc_auth neutron nova | tail -n +2
    svc_auth placement nova
    cat <<INI
[vnc]
enabled = false
[oslo_policy]
enforce_new_defaults = $NEW_RBAC
enforce_scope = $NEW_RBAC
[oslo_messaging_notifications]
driver = $NOTIFY_DRIVER
[notifications]
notification_format = $notif_format
notify_on_state_change = vm_and_task_state
INI
  }
  {
    nova_common tally-control
    cat <<INI
[api_database]
connection = $(dburl nova_api nova)
[database]
connection = $(dburl nova nova)
INI
    authtoken nova
  } >"$state/nova/nova.conf"
  # The first file of OS_NOVA_CONFIG_FILES is the paste config (gotcha 5); the log file only for the API.
  cp /etc/nova/api-paste.ini "$state/nova/api-paste.ini"
  printf '[DEFAULT]\nlog_file = %s\n' "$logd/nova-api.log" >"$state/nova/nova-api-log.conf"
  for h in $HOSTS; do
    mkdir -p "$state/nova/$h/instances" "$state/nova/$h/lock"
    nova_common "$h" >"$state/nova/compute-$h.conf"
  done
  mkdir -p "$state/nova/tally-control/lock"
  manage() { nova-manage --config-file "$state/nova/nova.conf" "$@" >>"$logd/nova-manage.log" 2>&1; }
  if [ ! -f "$state/nova/.synced" ]; then
    manage api_db sync || fail "nova-manage api_db sync failed" "$logd/nova-manage.log"
    manage cell_v2 map_cell0 --database_connection "$(dburl nova_cell0 nova)" || fail "nova-manage cell_v2 map_cell0 failed" "$logd/nova-manage.log"
    nova-manage --config-file "$state/nova/nova.conf" cell_v2 list_cells 2>/dev/null | grep -q ' cell1 ' \
      || manage cell_v2 create_cell --name cell1 || fail "nova-manage cell_v2 create_cell failed" "$logd/nova-manage.log"
    manage db sync || fail "nova-manage db sync failed" "$logd/nova-manage.log"
    touch "$state/nova/.synced"
  fi

  # 7. Processes.
  launch "$state/fake-neutron.pid" "$logd/fake-neutron.log" "$PY" "$here/fake-neutron.py" "$NEUTRON_PORT"
  launch "$state/placement.pid" "$logd/placement-uwsgi.log" uwsgi --plugins python3 --http11-socket "127.0.0.1:$PLACEMENT_PORT" \
    --wsgi-file /usr/bin/placement-api --master --processes 1 --threads 4 --die-on-term --enable-threads --lazy-apps \
    --env "OS_PLACEMENT_CONFIG_DIR=$state/placement"
  launch "$state/glance-api.pid" "$logd/glance-stdout.log" glance-api --config-file "$state/glance/glance-api.conf"
  launch "$state/nova-api.pid" "$logd/nova-api-uwsgi.log" uwsgi --plugins python3 --http11-socket "127.0.0.1:$NOVA_PORT" \
    --wsgi-file /usr/bin/nova-api-wsgi --master --processes 2 --threads 1 --die-on-term --enable-threads --lazy-apps \
    --buffer-size 65535 --env "OS_NOVA_CONFIG_DIR=$state/nova" --env "OS_NOVA_CONFIG_FILES=api-paste.ini;nova.conf;nova-api-log.conf"
  launch "$state/nova-conductor.pid" "$logd/nova-conductor.out" nova-conductor --config-file "$state/nova/nova.conf" --log-file "$logd/nova-conductor.log"
  launch "$state/nova-scheduler.pid" "$logd/nova-scheduler.out" nova-scheduler --config-file "$state/nova/nova.conf" --log-file "$logd/nova-scheduler.log"
  for h in $HOSTS; do
    launch "$state/nova-compute-$h.pid" "$logd/nova-compute-$h.out" nova-compute --config-file "$state/nova/compute-$h.conf" --log-file "$logd/nova-compute-$h.log"
  done

  wait_for "$state/fake-neutron.pid" 30 http_ok "http://127.0.0.1:$NEUTRON_PORT/" || fail "fake-neutron did not start" "$logd/fake-neutron.log"
  wait_for "$state/placement.pid" 90 http_ok "http://127.0.0.1:$PLACEMENT_PORT/" || fail "placement did not start" "$logd/placement-uwsgi.log" "$logd/placement.log"
  wait_for "$state/glance-api.pid" 90 http_ok "http://127.0.0.1:$GLANCE_PORT/healthcheck" || fail "glance-api did not start" "$logd/glance-stdout.log" "$logd/glance-api.log"
  wait_for "$state/nova-api.pid" 120 http_ok "http://127.0.0.1:$NOVA_PORT/" || fail "nova-api did not start" "$logd/nova-api-uwsgi.log" "$logd/nova-api.log"

  # 8. Seed (idempotent) and wait for the compute hosts: up, mapped to cell1, with resource providers.
  compute_logs=()
  for h in $HOSTS; do compute_logs+=("$logd/nova-compute-$h.log"); done
  KS_URL=$KS_URL HOSTS=$HOSTS AGGREGATE=$AGGREGATE AZ=$AZ NOVA_CONF="$state/nova/nova.conf" \
    NOVA_URL="http://127.0.0.1:$NOVA_PORT/v2.1" PLACEMENT_URL="http://127.0.0.1:$PLACEMENT_PORT" \
    "$PY" "$here/nova-setup.py" seed >"$state/seed.env" 2>"$logd/seed.log" \
    || fail "Nova did not become ready" "$logd/seed.log" "$logd/nova-conductor.log" "$logd/nova-scheduler.log" "${compute_logs[@]}"
  for f in "$state"/nova-*.pid; do running "$f" || fail "$(basename "$f" .pid) exited" "$logd/$(basename "$f" .pid).log"; done

  {
    echo "NOVA_URL=http://127.0.0.1:$NOVA_PORT/v2.1"
    echo "PLACEMENT_URL=http://127.0.0.1:$PLACEMENT_PORT"
    echo "GLANCE_URL=http://127.0.0.1:$GLANCE_PORT"
    echo "NEUTRON_URL=http://127.0.0.1:$NEUTRON_PORT"
    echo "NOVA_KEYSTONE_URL=$KS_URL"
    echo "NOVA_AMQP_URL=amqp://$AMQP_BASE/$VHOST"
    echo "NOVA_VHOST=$VHOST"
    echo "NOVA_NOTIFY_EXCHANGE=nova"
    echo "NOVA_VERSIONED_TOPIC=versioned_notifications"
    echo "NOVA_LEGACY_TOPIC=notifications"
    echo "NOVA_NOTIFICATION_FORMAT=$FORMAT"
    echo "NOVA_COMPUTE_HOSTS=$(echo $HOSTS | tr ' ' ,)"
    echo "NOVA_COMPUTE_DRIVER=$DRIVER"
    echo "NOVA_NEW_RBAC=$NEW_RBAC"
    cat "$state/register.env" "$state/seed.env"
  } >"$state/nova.env.tmp"
  mv "$state/nova.env.tmp" "$state/nova.env"
  log "nova running (api pid $(cat "$state/nova-api.pid")) at http://127.0.0.1:$NOVA_PORT/v2.1; env in $state/nova.env"
  ;;

stop)
  state=${2:?state dir}
  # TERM every group at once (eventlet services take seconds to exit), then wait for each, KILL after 15 s.
  pidfiles=()
  for f in "$state"/nova-compute-*.pid "$state"/{nova-scheduler,nova-conductor,nova-api,glance-api,placement,fake-neutron}.pid; do
    [ -f "$f" ] && pidfiles+=("$f")
  done
  for f in "${pidfiles[@]}"; do pid=$(cat "$f"); kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for f in "${pidfiles[@]}"; do stop_group "$f"; done
  rabbitmqctl -q delete_vhost "$VHOST" 2>/dev/null || true
  ;;
*) echo "usage: $0 install|start STATE|stop STATE" >&2; exit 2 ;;
esac
