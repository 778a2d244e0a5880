#!/usr/bin/env bash
# The OpenStack test tier: installs and starts real OpenStack parts from Debian
# on loopback, runs the tests that talk to them, and stops them by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
state=$(mktemp -d "${TMPDIR:-/tmp}/tally-openstack.XXXXXX")
here=scripts/openstack
cleanup() {
  bash "$here/horizon.sh" stop "$state" || true
  bash "$here/nova.sh" stop "$state/nova" || true
  bash "$here/ceilometer.sh" stop "$state" || true
  bash "$here/keystone.sh" stop "$state/keystone" || true
  [ -n "${KEEP_OPENSTACK_STATE:-}" ] || rm -rf "$state"
}
trap cleanup EXIT
bash "$here/ceilometer.sh" install
bash "$here/ceilometer.sh" start "$state"
bash "$here/keystone.sh" install
chmod o+x "$state"  # keystone.sh's private PostgreSQL runs as the postgres user
KEYSTONE_SHORT_PORT=${KEYSTONE_SHORT_PORT:-5001} bash "$here/keystone.sh" start "$state/keystone"
export TALLY_OS_KEYSTONE_ENV="$state/keystone/keystone.env"
# Nova + Placement + Glance + fake-neutron on Keystone's database cluster (TALLY_OS_NOVA=0 leaves them out).
if [ "${TALLY_OS_NOVA:-1}" != 0 ]; then
  bash "$here/nova.sh" install
  KEYSTONE_ENV="$TALLY_OS_KEYSTONE_ENV" bash "$here/nova.sh" start "$state/nova"
  export TALLY_OS_NOVA_ENV="$state/nova/nova.env"
fi
bash "$here/horizon.sh" install
KEYSTONE_URL="http://127.0.0.1:${KEYSTONE_PORT:-5000}/v3" bash "$here/horizon.sh" start "$state"
export TALLY_OS_HORIZON_URL="http://127.0.0.1:${HORIZON_PORT:-8080}"
export TALLY_OS_AMQP_URL="amqp://guest:guest@127.0.0.1:5672/${TALLY_OS_VHOST:-tally_openstack}"
export TALLY_OS_CEILOMETER_SECRET="${TALLY_OS_CEILOMETER_SECRET:-notification-agent-secret}"
export TALLY_OS_STATE="$state"
# TALLY_OS_TESTS: a space-separated subset of test files (default: every one).
files=${TALLY_OS_TESTS:-$(find cli/test-openstack -name '*.test.ts' | sort)}
node --import tsx --test $files
