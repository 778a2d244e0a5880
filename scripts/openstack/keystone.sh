#!/usr/bin/env bash
# Real Keystone Zed from Debian for the OpenStack test tier:
#   keystone.sh install          apt-get install keystone python3-openstackclient (if missing)
#   keystone.sh start STATE_DIR  a private PostgreSQL cluster (initdb in STATE_DIR, port $KEYSTONE_PG_PORT,
#                                default 5433) and keystone under uwsgi on 127.0.0.1:$KEYSTONE_PORT (default
#                                5000); bootstraps admin/admin-pass, creates the test projects, users, roles
#                                and the `billing` catalog entry, and writes STATE_DIR/keystone.env
#   keystone.sh stop STATE_DIR   stop exactly the processes it started (by PID / process group)
#
# Environment:
#   KEYSTONE_PORT (5000), KEYSTONE_PG_PORT (5433), BILLING_PORT (8889: the billing endpoint's port),
#   KEYSTONE_TOKEN_EXPIRATION (3600: token lifetime in seconds).
#   KEYSTONE_SHORT_PORT (unset): also run a second keystone on this port, sharing the database and the
#     fernet keys but issuing tokens that live KEYSTONE_SHORT_EXPIRATION (20) seconds, so tests can see
#     a token expire; its tokens validate on the main keystone too (fernet tokens carry their expiry).
# Rerunning `start` while everything runs is cheap: it only re-checks the entities and rewrites keystone.env.
set -euo pipefail
cmd=${1:?install|start|stop}
KS_PORT=${KEYSTONE_PORT:-5000}
PG_PORT=${KEYSTONE_PG_PORT:-5433}
BILLING_PORT=${BILLING_PORT:-8889}
TOKEN_EXPIRATION=${KEYSTONE_TOKEN_EXPIRATION:-3600}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

# Is the process with this PID alive? A zombie (state Z) has stopped: PID 1 here reaps orphans late.
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$st" ] && [[ "$st" != Z* ]]
}

# Stop a process group whose leader's PID is in $1 (a file), TERM first, KILL after 15 s.
stop_group() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do alive "$pid" || break; sleep 0.5; done
  if alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

as_postgres() { runuser -u postgres -- "$@"; }

case "$cmd" in
install)
  if ! command -v keystone-manage >/dev/null || ! command -v openstack >/dev/null \
     || ! command -v uwsgi >/dev/null || ! /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
    # Debian's postinst must not start a stock service on this machine.
    made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    pkgs="keystone python3-openstackclient uwsgi-core uwsgi-plugin-python3 python3-psycopg2"
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $pkgs \
      || { apt-get update -qq; apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $pkgs; }
    if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  fi
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "PostgreSQL server binaries (initdb) are missing: apt-get install postgresql" >&2
    exit 1
  fi
  keystone-manage --version 2>/dev/null || true
  ;;

start)
  state=${2:?state dir}
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  # The postgres user must be able to reach its data directory inside STATE_DIR.
  chmod o+x "$state"
  if ! runuser -u postgres -- test -x "$state"; then
    echo "the postgres user cannot enter $state: make its parent directories traversable (chmod o+x)" >&2; exit 1
  fi
  pgdata=$state/pg sock=$state/pgsock ks=$state/keystone
  mkdir -p "$sock" "$state/pglog" "$ks/log"
  chown postgres "$sock" "$state/pglog"

  # 1. Private PostgreSQL cluster.
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    mkdir -p "$pgdata"; chown postgres "$pgdata"
    as_postgres "$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 >"$state/initdb.log" 2>&1
  fi
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$pgdata" -l "$state/pglog/postgresql.log" -w -t 60 \
      -o "-p $PG_PORT -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null
  fi
  head -1 "$pgdata/postmaster.pid" > "$state/postgresql.pid"
  psql_pg() { as_postgres psql -h "$sock" -p "$PG_PORT" -U postgres -qtAX "$@"; }
  if [ -z "$(psql_pg -c "select 1 from pg_roles where rolname='keystone'")" ]; then
    psql_pg -c "create role keystone login password 'ks-db-pass'"
    psql_pg -c "create database keystone owner keystone"
  fi

  # 2. Keystone config, schema, keys, bootstrap.
  cat > "$ks/keystone.conf" <<INI
[DEFAULT]
log_file = $ks/log/keystone.log
[database]
connection = postgresql+psycopg2://keystone:ks-db-pass@127.0.0.1:$PG_PORT/keystone
[identity]
password_hash_rounds = 4
[token]
provider = fernet
expiration = $TOKEN_EXPIRATION
[fernet_tokens]
key_repository = $ks/fernet-keys/
[fernet_receipts]
key_repository = $ks/fernet-receipts/
[credential]
key_repository = $ks/credential-keys/
[cache]
enabled = true
backend = dogpile.cache.memory
INI
  # keystone-manage prints harmless eventlet noise at exit; its real output goes to the log.
  manage() { keystone-manage --config-file "$ks/keystone.conf" "$@" >>"$ks/log/keystone-manage.log" 2>&1 \
    || { echo "keystone-manage $1 failed; log:" >&2; tail -30 "$ks/log/keystone-manage.log" >&2; exit 1; }; }
  url="http://127.0.0.1:$KS_PORT/v3"
  if [ ! -f "$ks/.bootstrapped" ]; then
    manage db_sync
    manage fernet_setup --keystone-user root --keystone-group root
    manage credential_setup --keystone-user root --keystone-group root
    manage bootstrap --bootstrap-password admin-pass --bootstrap-username admin \
      --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-region-id RegionOne \
      --bootstrap-admin-url "$url/" --bootstrap-internal-url "$url/" --bootstrap-public-url "$url/"
    touch "$ks/.bootstrapped"
  fi

  # 3. uwsgi: one process with 8 threads (the memory cache is per process), HTTP/1.1 keep-alive.
  if [ -f "$state/keystone.pid" ] && alive "$(cat "$state/keystone.pid")"; then
    :
  else
    if curl -fsS -o /dev/null "http://127.0.0.1:$KS_PORT/" 2>/dev/null; then
      echo "port $KS_PORT is already taken by another process; set KEYSTONE_PORT" >&2; exit 1
    fi
    setsid uwsgi --plugins python3 --http11-socket "127.0.0.1:$KS_PORT" \
      --wsgi-file /usr/bin/keystone-wsgi-public --master --processes 1 --threads 8 \
      --die-on-term --env "OS_KEYSTONE_CONFIG_DIR=$ks" --env "OS_KEYSTONE_CONFIG_FILES=keystone.conf" \
      > "$ks/log/uwsgi.log" 2>&1 < /dev/null &
    echo $! > "$state/keystone.pid"
  fi
  for i in $(seq 120); do
    if curl -fs -o /dev/null "$url" 2>/dev/null; then break; fi
    if ! alive "$(cat "$state/keystone.pid")"; then i=120; fi
    if [ "$i" = 120 ]; then
      echo "keystone did not start; log:" >&2; tail -30 "$ks/log/uwsgi.log" "$ks/log/keystone.log" >&2 || true; exit 1
    fi
    sleep 0.5
  done

  # 3b. Optional short-lived-token issuer.
  if [ -n "${KEYSTONE_SHORT_PORT:-}" ]; then
    mkdir -p "$ks/short"
    sed "s/^expiration = .*/expiration = ${KEYSTONE_SHORT_EXPIRATION:-20}/" "$ks/keystone.conf" > "$ks/short/keystone.conf"
    if ! { [ -f "$state/keystone-short.pid" ] && alive "$(cat "$state/keystone-short.pid")"; }; then
      setsid uwsgi --plugins python3 --http11-socket "127.0.0.1:$KEYSTONE_SHORT_PORT" \
        --wsgi-file /usr/bin/keystone-wsgi-public --master --processes 1 --threads 2 \
        --die-on-term --env "OS_KEYSTONE_CONFIG_DIR=$ks/short" --env "OS_KEYSTONE_CONFIG_FILES=keystone.conf" \
        > "$ks/log/uwsgi-short.log" 2>&1 < /dev/null &
      echo $! > "$state/keystone-short.pid"
    fi
    for i in $(seq 120); do
      if curl -fs -o /dev/null "http://127.0.0.1:$KEYSTONE_SHORT_PORT/v3" 2>/dev/null; then break; fi
      if [ "$i" = 120 ]; then echo "short-lived keystone did not start" >&2; tail -20 "$ks/log/uwsgi-short.log" >&2; exit 1; fi
      sleep 0.5
    done
  fi

  # 4. Projects, users, roles, the billing service: find or create, then write keystone.env.
  KS_URL=$url BILLING_URL="http://127.0.0.1:$BILLING_PORT" /usr/bin/python3 - > "$state/keystone.env.tmp" <<'PY'
import os
from keystoneauth1.identity import v3
from keystoneauth1 import session
from keystoneclient.v3 import client

url = os.environ["KS_URL"]
auth = v3.Password(auth_url=url, username="admin", password="admin-pass", project_name="admin",
                   user_domain_id="default", project_domain_id="default")
ks = client.Client(session=session.Session(auth=auth), interface="public")

def one(items, **attrs):
    for it in items:
        if all(getattr(it, k) == v for k, v in attrs.items()):
            return it
    return None

def project(name):
    return one(ks.projects.list(domain="default"), name=name) or ks.projects.create(name, "default")

def role(name):
    return one(ks.roles.list(), name=name) or ks.roles.create(name)

def user(name, password, proj):
    u = one(ks.users.list(domain="default"), name=name)
    if u is None:
        u = ks.users.create(name, domain="default", password=password, default_project=proj)
    return u

def grant(u, p, r):
    ks.roles.grant(role(r), user=u, project=p)

out = {"KEYSTONE_URL": url}
projects = {n: project(n) for n in ("admin", "demo", "other", "service")}
for n, p in projects.items():
    out[f"{n.upper()}_PROJECT_ID"] = p.id
for name, password, proj, roles in [
    ("admin", "admin-pass", "admin", ["admin"]),
    ("demo-member", "demo-pass", "demo", ["member"]),
    ("demo-reader", "reader-pass", "demo", ["reader"]),
    ("other-member", "other-pass", "other", ["member"]),
    ("billing", "billing-pass", "service", ["admin", "service"]),
]:
    u = user(name, password, projects[proj])
    for r in roles:
        grant(u, projects[proj], r)
    out[name.upper().replace("-", "_") + "_USER_ID"] = u.id

svc = one(ks.services.list(), type="billing") or ks.services.create("billing", type="billing",
                                                                      description="Tally billing API")
out["BILLING_SERVICE_ID"] = svc.id
want = os.environ["BILLING_URL"]
for iface in ("public", "internal", "admin"):
    ep = one(ks.endpoints.list(service=svc), interface=iface)
    if ep is None:
        ks.endpoints.create(svc, want, interface=iface, region="RegionOne")
    elif ep.url != want:
        ks.endpoints.update(ep, url=want)
out["BILLING_URL"] = want
for k, v in out.items():
    print(f"{k}={v}")
PY
  {
    cat "$state/keystone.env.tmp"
    echo "KEYSTONE_PG_PORT=$PG_PORT"
    echo "KEYSTONE_PG_SOCKET=$sock"
    if [ -n "${KEYSTONE_SHORT_PORT:-}" ]; then
      echo "KEYSTONE_SHORT_URL=http://127.0.0.1:$KEYSTONE_SHORT_PORT/v3"
      echo "KEYSTONE_SHORT_EXPIRATION=${KEYSTONE_SHORT_EXPIRATION:-20}"
    fi
  } > "$state/keystone.env"
  rm -f "$state/keystone.env.tmp"
  echo "keystone running (pid $(cat "$state/keystone.pid")) at $url; env in $state/keystone.env"
  ;;

stop)
  state=${2:?state dir}
  stop_group "$state/keystone-short.pid"
  stop_group "$state/keystone.pid"
  if [ -f "$state/pg/postmaster.pid" ] && [ -n "$PG_BIN" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$state/pg" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  if [ -f "$state/postgresql.pid" ]; then
    pid=$(cat "$state/postgresql.pid")
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    rm -f "$state/postgresql.pid"
  fi
  ;;
*) echo "usage: $0 install|start STATE|stop STATE" >&2; exit 2 ;;
esac
