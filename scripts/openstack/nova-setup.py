#!/usr/bin/python3
"""Keystone registration and Nova seed data for scripts/openstack/nova.sh (idempotent: find or create).

  nova-setup.py register   service users (nova, placement, glance: admin + service in project `service`),
                           Tally's Placement reader (`tally-placement`, role reader on the system scope),
                           the compute, placement, image and network services with their endpoints
  nova-setup.py seed       waits until every compute host is up, mapped to cell1 and has a resource
                           provider with inventory; flavors 1-3, the image `tiny-raw`, an aggregate with an
                           availability zone holding the first host

Prints KEY=VALUE lines for nova.env on stdout; progress and errors go to stderr.
"""
import io
import os
import subprocess
import sys
import time

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

KS_URL = os.environ["KS_URL"]


def say(*args):
    print(*args, file=sys.stderr, flush=True)


def admin_session():
    auth = v3.Password(auth_url=KS_URL, username="admin", password="admin-pass", project_name="admin",
                       user_domain_id="default", project_domain_id="default")
    return session.Session(auth=auth)


def one(items, **attrs):
    for it in items:
        if all(getattr(it, k) == v for k, v in attrs.items()):
            return it
    return None


def register():
    ks = client.Client(session=admin_session(), interface="public")
    service = one(ks.projects.list(domain="default"), name="service") or ks.projects.create("service", "default")
    roles = {r.name: r for r in ks.roles.list()}
    for name in ("admin", "service", "reader"):
        if name not in roles:
            roles[name] = ks.roles.create(name)

    def user(name, password):
        u = one(ks.users.list(domain="default"), name=name)
        return u or ks.users.create(name, domain="default", password=password, default_project=service)

    for name in ("nova", "placement", "glance"):
        u = user(name, f"{name}-pass")
        for r in ("admin", "service"):
            ks.roles.grant(roles[r], user=u, project=service)
    # Placement's Zed rules read providers, inventories and usages with `role:reader and system_scope:all`
    # (or the deprecated `role:admin`): a system-scoped reader is the least Tally needs.
    reader = user("tally-placement", "placement-reader-pass")
    ks.roles.grant(roles["reader"], user=reader, system="all")

    out = {}
    for stype, sname, port, path in (("compute", "nova", os.environ["NOVA_PORT"], "/v2.1"),
                                     ("placement", "placement", os.environ["PLACEMENT_PORT"], ""),
                                     ("image", "glance", os.environ["GLANCE_PORT"], ""),
                                     ("network", "neutron", os.environ["NEUTRON_PORT"], "")):
        svc = one(ks.services.list(), type=stype) or ks.services.create(sname, type=stype, description=f"{sname} (Tally tests)")
        want = f"http://127.0.0.1:{port}{path}"
        for iface in ("public", "internal", "admin"):
            ep = one(ks.endpoints.list(service=svc), interface=iface)
            if ep is None:
                ks.endpoints.create(svc, want, interface=iface, region="RegionOne")
            elif ep.url != want:
                ks.endpoints.update(ep, url=want)
        out[f"{stype.upper()}_SERVICE_ID"] = svc.id
    out.update({
        "NOVA_SERVICE_USER": "nova", "NOVA_SERVICE_PASSWORD": "nova-pass", "NOVA_SERVICE_PROJECT": "service",
        "PLACEMENT_READER_USER": "tally-placement", "PLACEMENT_READER_PASSWORD": "placement-reader-pass",
        "PLACEMENT_READER_USER_ID": reader.id, "PLACEMENT_READER_SCOPE": "system",
    })
    for k, v in out.items():
        print(f"{k}={v}")


def until(what, secs, fn):
    """Call fn until it returns a truthy value; raise after secs seconds."""
    deadline = time.time() + secs
    last = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # a service still starting answers 5xx or refuses the connection
            last = e
        time.sleep(1)
    raise SystemExit(f"timed out after {secs} s waiting for {what}" + (f" (last error: {last})" if last else ""))


def seed():
    s = admin_session()
    nova = os.environ["NOVA_URL"]
    placement = os.environ["PLACEMENT_URL"]
    hosts = os.environ["HOSTS"].split()
    nv = {"OpenStack-API-Version": "compute 2.53"}
    pl = {"OpenStack-API-Version": "placement 1.19"}

    def get(url, headers, ok=(200,)):
        r = s.get(url, headers=headers, raise_exc=False)
        if r.status_code not in ok:
            raise RuntimeError(f"GET {url}: {r.status_code} {r.text[:200]}")
        return r

    def computes_up():
        svcs = get(f"{nova}/os-services?binary=nova-compute", nv).json()["services"]
        up = {x["host"] for x in svcs if x["state"] == "up" and x["status"] == "enabled"}
        return all(h in up for h in hosts)

    until("the nova-compute services to be up", 240, computes_up)
    say("compute services up")

    def mapped():
        conf = os.environ["NOVA_CONF"]
        subprocess.run(["nova-manage", "--config-file", conf, "cell_v2", "discover_hosts"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listing = subprocess.run(["nova-manage", "--config-file", conf, "cell_v2", "list_hosts"], check=True,
                                 capture_output=True, text=True).stdout
        return all(f" {h} " in listing for h in hosts)

    until("the compute hosts to be mapped to cell1", 120, mapped)
    say("hosts mapped")

    def providers():
        rps = {r["name"]: r["uuid"] for r in get(f"{placement}/resource_providers", pl).json()["resource_providers"]}
        if not all(h in rps for h in hosts):
            return None
        for h in hosts:
            inv = get(f"{placement}/resource_providers/{rps[h]}/inventories", pl).json()["inventories"]
            if not {"VCPU", "MEMORY_MB", "DISK_GB"} <= set(inv):
                return None
        return rps

    rps = until("resource providers with inventories", 120, providers)
    say("resource providers ready")

    flavors = {"1": ("m1.tiny", 512, 1, 1), "2": ("m1.small", 2048, 1, 20), "3": ("m1.medium", 4096, 2, 40)}
    for fid, (name, ram, vcpus, disk) in flavors.items():
        if s.get(f"{nova}/flavors/{fid}", headers=nv, raise_exc=False).status_code == 404:
            s.post(f"{nova}/flavors", headers=nv, json={"flavor": {"name": name, "ram": ram, "vcpus": vcpus, "disk": disk, "id": fid}})

    glance = s.get_endpoint(service_type="image", interface="public").rstrip("/")
    images = s.get(f"{glance}/v2/images?name=tiny-raw").json()["images"]
    image = next((i for i in images if i["status"] == "active"), None)
    if image is None:
        image = s.post(f"{glance}/v2/images", json={"name": "tiny-raw", "disk_format": "raw", "container_format": "bare",
                                                    "visibility": "public"}).json()
        # FakeDriver never reads it: 64 KiB of zeros is enough for nova-api's image checks.
        s.put(f"{glance}/v2/images/{image['id']}/file", data=io.BytesIO(b"\0" * 65536),
              headers={"Content-Type": "application/octet-stream"})
        until("the image to be active", 60, lambda: s.get(f"{glance}/v2/images/{image['id']}").json()["status"] == "active")

    agg_name, az = os.environ["AGGREGATE"], os.environ["AZ"]
    av = {"OpenStack-API-Version": "compute 2.41"}
    agg = next((a for a in get(f"{nova}/os-aggregates", av).json()["aggregates"] if a["name"] == agg_name), None)
    if agg is None:
        agg = s.post(f"{nova}/os-aggregates", headers=av, json={"aggregate": {"name": agg_name, "availability_zone": az}}).json()["aggregate"]
    if hosts[0] not in (agg.get("hosts") or []):
        agg = s.post(f"{nova}/os-aggregates/{agg['id']}/action", headers=av, json={"add_host": {"host": hosts[0]}}).json()["aggregate"]
    # nova-api mirrors the membership into Placement (the aggregate's uuid on the provider).
    until("the aggregate in Placement", 60,
          lambda: agg["uuid"] in get(f"{placement}/resource_providers/{rps[hosts[0]]}/aggregates", pl).json()["aggregates"])

    out = {
        "NOVA_IMAGE_ID": image["id"], "NOVA_FLAVOR_TINY": "1", "NOVA_FLAVOR_SMALL": "2", "NOVA_FLAVOR_MEDIUM": "3",
        "NOVA_AGGREGATE_NAME": agg_name, "NOVA_AGGREGATE_ID": agg["id"], "NOVA_AGGREGATE_UUID": agg["uuid"], "NOVA_AZ": az,
        "NOVA_PROVIDERS": ",".join(f"{h}={rps[h]}" for h in hosts),
    }
    for k, v in out.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    {"register": register, "seed": seed}[sys.argv[1]]()
