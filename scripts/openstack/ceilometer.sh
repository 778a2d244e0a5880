#!/usr/bin/env bash
# Real Ceilometer Zed from Debian for the OpenStack test tier:
#   ceilometer.sh install          apt-get install ceilometer-agent-notification (if missing)
#   ceilometer.sh start STATE_DIR  a private RabbitMQ vhost + the notification agent (pipeline: every
#                                  meter to notifier://, i.e. metering.sample), PID in STATE_DIR
#   ceilometer.sh stop STATE_DIR   stop exactly that process group, drop the vhost
# Uses the machine's RabbitMQ on 127.0.0.1:5672 (guest/guest), in its own vhost.
set -euo pipefail
cmd=${1:?install|start|stop}
VHOST=${TALLY_OS_VHOST:-tally_openstack}
SECRET=${TALLY_OS_CEILOMETER_SECRET:-notification-agent-secret}

case "$cmd" in
install)
  if ! command -v ceilometer-agent-notification >/dev/null; then
    # Debian's postinst must not start a stock service on this machine.
    made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends ceilometer-agent-notification
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  fi
  ceilometer-agent-notification --version 2>/dev/null || true
  ;;
start)
  state=${2:?state dir}
  mkdir -p "$state"
  rabbitmqctl -q add_vhost "$VHOST" 2>/dev/null || true
  rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*'
  cat > "$state/pipeline.yaml" <<YAML
---
sources:
  - name: meter_source
    meters: ["*"]
    sinks: [meter_sink]
sinks:
  - name: meter_sink
    publishers: ["notifier://"]
YAML
  cat > "$state/ceilometer.conf" <<INI
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/$VHOST
host = tally-test-notification
pipeline_cfg_file = $state/pipeline.yaml
log_file = $state/notification.log
[notification]
workers = 1
pipelines = meter
[publisher]
telemetry_secret = $SECRET
INI
  setsid ceilometer-agent-notification --config-file "$state/ceilometer.conf" > "$state/stdout.log" 2>&1 < /dev/null &
  echo $! > "$state/ceilometer-agent-notification.pid"
  # Ready when it consumes its notifications.sample queue.
  for _ in $(seq 90); do
    if rabbitmqctl -q list_queues -p "$VHOST" name consumers 2>/dev/null | grep -Eq '^notifications\.sample[[:space:]]+[1-9]'; then
      echo "ceilometer-agent-notification running (pid $(cat "$state/ceilometer-agent-notification.pid")) on vhost $VHOST"
      exit 0
    fi
    sleep 1
  done
  echo "ceilometer-agent-notification did not start; log:" >&2
  tail -30 "$state/notification.log" "$state/stdout.log" >&2 || true
  exit 1
  ;;
stop)
  state=${2:?state dir}
  pidfile="$state/ceilometer-agent-notification.pid"
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    # setsid made it a process-group leader: stop its workers with it.
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 30); do
      st=$(ps -o stat= -p "$pid" 2>/dev/null || true)
      # A zombie (Z) has stopped; PID 1 here may reap it late.
      if [ -z "$st" ] || [[ "$st" == Z* ]]; then break; fi
      sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
  fi
  rabbitmqctl -q delete_vhost "$VHOST" 2>/dev/null || true
  ;;
*) echo "usage: $0 install|start STATE|stop STATE" >&2; exit 2 ;;
esac
