"""One polling cycle of Debian's real Ceilometer Zed compute agent (the
ceilometer-polling AgentManager, all compute pollsters) over a libvirt
test-driver node file, publishing to RabbitMQ: wall time, CPU time, max RSS.

Usage: python3 bench/ceilometer_polling_cycle.py NODE_XML AMQP_URL EXCHANGE [RUNS]
Needs python3-ceilometer and python3-libvirt. The only stand-in: Nova's flavor
lookup (`InstanceDiscovery.get_flavor_id`) returns the flavor name, as Ceilometer
does when Nova answers NotFound; there is no Nova on this machine.
"""
import os
import resource
import sys
import tempfile
import time

node, amqp, exchange = sys.argv[1], sys.argv[2], sys.argv[3]
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 4
d = tempfile.mkdtemp(prefix='tally-ceilo-bench-')
with open(os.path.join(d, 'polling.yaml'), 'w') as f:
    f.write('---\nsources:\n  - name: all\n    interval: 3600\n    meters: ["*"]\n')
with open(os.path.join(d, 'ceilometer.conf'), 'w') as f:
    f.write(f"""[DEFAULT]
transport_url = {amqp.replace('amqp://', 'rabbit://')}
control_exchange = {exchange}
hypervisor_inspector = libvirt
libvirt_uri = test://{node}
host = compute-bench
log_file = {d}/ceilometer.log
[compute]
instance_discovery_method = libvirt_metadata
[polling]
cfg_file = {d}/polling.yaml
[publisher]
telemetry_secret = s3cr3t
[oslo_messaging_notifications]
driver = messagingv2
""")

from oslo_config import cfg  # noqa: E402
from ceilometer import service  # noqa: E402
from ceilometer.cmd.polling import CLI_OPTS  # noqa: E402
from ceilometer.polling import manager  # noqa: E402
import ceilometer.compute.discovery as discovery  # noqa: E402

conf = cfg.ConfigOpts()
conf.register_cli_opts(CLI_OPTS)
service.prepare_service(argv=['ceilometer-polling', '--config-file', os.path.join(d, 'ceilometer.conf'), '--polling-namespaces', 'compute'], conf=conf)
discovery.InstanceDiscovery.get_flavor_id = lambda self, name: name
mgr = manager.AgentManager(0, conf, ['compute'])
mgr.polling_manager = manager.PollingManager(conf)
tasks = mgr.setup_polling_tasks()
results = []
for i in range(runs):
    c0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    for t in tasks.values():
        mgr.interval_task(t)
    wall = time.monotonic() - t0
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    if i > 0:
        results.append((wall, cpu))
results.sort()
wall, cpu = results[len(results) // 2]
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import shutil  # noqa: E402
shutil.rmtree(d, ignore_errors=True)
print(f"real ceilometer-polling (Zed {__import__('pbr.version').version.VersionInfo('ceilometer').version_string()}) cycle: median wall {wall * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms (of {len(results)}); max RSS {maxrss:.0f} MiB")
