#!/bin/bash
# Tally devstack plugin, in CloudKitty's shape: install_/configure_/init_/start_/stop_/cleanup_
# functions dispatched on "$1 $2". Tally needs PostgreSQL: set DATABASE_TYPE=postgresql (README.md).

# Save trace setting
_XTRACE_TALLY=$(set +o | grep xtrace)
set -o xtrace

TALLY_NODE="$TALLY_NODE_DIR/bin/node"
TALLY_BIN="$TALLY_NODE $TALLY_DIR/bin/tally.js"
TALLY_HORIZON_ENABLED_FILES="_91000_tally_project_panel_group.py _91010_tally_project_billing_panel.py _91020_tally_admin_panel_group.py _91030_tally_admin_billing_panel.py _91040_tally_admin_scheduler_panel.py"

function install_tally_node {
    if [[ ! -x "$TALLY_NODE" ]]; then
        local tarball=node-$TALLY_NODE_VERSION-linux-x64.tar.xz
        curl -fsSL -o "$DEST/$tarball" "https://nodejs.org/dist/$TALLY_NODE_VERSION/$tarball"
        mkdir -p "$TALLY_NODE_DIR"
        tar -xJf "$DEST/$tarball" -C "$TALLY_NODE_DIR" --strip-components=1
        rm -f "$DEST/$tarball"
    fi
}

function install_tally {
    install_tally_node
    if [[ "$DATABASE_TYPE" != "postgresql" ]]; then
        die $LINENO "Tally stores money in PostgreSQL: set DATABASE_TYPE=postgresql in local.conf"
    fi
    (cd "$TALLY_DIR" && PATH="$TALLY_NODE_DIR/bin:$PATH" npm ci)  # npm ci builds everything, the UI bundle too
    if is_service_enabled tally-agent; then
        install_package libvirt0
    fi
}

function configure_tally {
    sudo install -d -o "$STACK_USER" "$TALLY_CONF_DIR" "$TALLY_DATA_DIR" "$TALLY_DATA_DIR/dfs"
    create_service_user "tally" "admin"
    get_or_create_service "tally" "$TALLY_SERVICE_TYPE" "Tally billing API"
    get_or_create_endpoint "$TALLY_SERVICE_TYPE" "$REGION_NAME" "http://$TALLY_API_HOST:$TALLY_API_PORT"
    # One YAML file for every tally command; `tally config sample` documents each key.
    cat > "$TALLY_CONF_DIR/tally.yaml" <<YAML
database-url: postgres://$DATABASE_USER:$DATABASE_PASSWORD@$DATABASE_HOST:5432/$TALLY_DB_NAME
amqp-url: amqp://$RABBIT_USERID:$RABBIT_PASSWORD@$RABBIT_HOST:5672/
dfs-url: file://$TALLY_DATA_DIR/dfs
host: $TALLY_API_HOST
port: $TALLY_API_PORT
auth-strategy: keystone
keystone-url: $KEYSTONE_SERVICE_URI/v3
keystone-user: tally
keystone-password: $SERVICE_PASSWORD
keystone-project: $SERVICE_PROJECT_NAME
libvirt-uri: $TALLY_LIBVIRT_URI
telemetry-secret: "$TALLY_TELEMETRY_SECRET"
# The scheduler (tally-scheduler): analyzer servers through Nova, as the tally service user.
scheduler-driver: $TALLY_SCHEDULER_DRIVER
nova-auth-url: $KEYSTONE_SERVICE_URI/v3
nova-username: tally
nova-password: $SERVICE_PASSWORD
nova-project-name: $SERVICE_PROJECT_NAME
nova-flavor: $TALLY_ANALYZER_FLAVOR
nova-image: $TALLY_ANALYZER_IMAGE
nova-network: $TALLY_ANALYZER_NETWORK
nova-tally-git-url: $TALLY_ANALYZER_GIT_URL
YAML
    chmod 600 "$TALLY_CONF_DIR/tally.yaml"
}

function install_tally_horizon {
    # The Django plugin: onto Horizon's Python path, enabled files into local/enabled.
    local site
    site=$(python3 -c 'import openstack_dashboard, os; print(os.path.dirname(os.path.dirname(openstack_dashboard.__file__)))')
    echo "$TALLY_DIR/plugins/horizon-panel" | sudo tee "$site/tally-dashboard.pth" > /dev/null
    for f in $TALLY_HORIZON_ENABLED_FILES; do
        cp "$TALLY_DIR/plugins/horizon-panel/tally_dashboard/enabled/$f" "$HORIZON_DIR/openstack_dashboard/local/enabled/"
    done
    (cd "$HORIZON_DIR" && python3 manage.py collectstatic --noinput && python3 manage.py compress --force)
    restart_apache_server
}

function init_tally {
    recreate_database "$TALLY_DB_NAME"
    $TALLY_BIN migrate --config "$TALLY_CONF_DIR/tally.yaml"
}

function start_tally {
    run_process tally-api "$TALLY_BIN api --config $TALLY_CONF_DIR/tally.yaml"
    run_process tally-analyzer "$TALLY_BIN analyzer --config $TALLY_CONF_DIR/tally.yaml"
    if is_service_enabled tally-agent; then
        run_process tally-agent "$TALLY_BIN agent --config $TALLY_CONF_DIR/tally.yaml"
    fi
    if is_service_enabled tally-scheduler; then
        run_process tally-scheduler "$TALLY_BIN scheduler --config $TALLY_CONF_DIR/tally.yaml"
    fi
}

function stop_tally {
    for svc in tally-scheduler tally-agent tally-analyzer tally-api; do
        stop_process $svc
    done
}

function cleanup_tally {
    local site
    for f in $TALLY_HORIZON_ENABLED_FILES; do
        rm -f "$HORIZON_DIR/openstack_dashboard/local/enabled/$f"
    done
    site=$(python3 -c 'import openstack_dashboard, os; print(os.path.dirname(os.path.dirname(openstack_dashboard.__file__)))' 2>/dev/null) \
        && sudo rm -f "$site/tally-dashboard.pth"
    sudo rm -rf "$TALLY_CONF_DIR" "$TALLY_DATA_DIR"
}

if is_service_enabled tally-api tally-analyzer tally-agent tally-scheduler tally-horizon; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Tally"
        install_tally
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring Tally"
        configure_tally
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initializing and starting Tally"
        init_tally
        start_tally
        if is_service_enabled tally-horizon && is_service_enabled horizon; then
            install_tally_horizon
        fi
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_tally
    fi
    if [[ "$1" == "clean" ]]; then
        cleanup_tally
    fi
fi

# Restore xtrace
$_XTRACE_TALLY
