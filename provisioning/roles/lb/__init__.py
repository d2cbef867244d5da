"""Load balancers: HAProxy terminating TLS (Mozilla intermediate, HSTS, HTTP to
HTTPS) in front of the app nodes, and keepalived holding the virtual IP on the
load balancer whose HAProxy is alive (O-REDUNDANT, S-TLS, S-ADMINIP)."""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

from lib import secrets, topology

HERE = Path(__file__).parent
SITE_PEM = "/etc/haproxy/certs/site.pem"


@deploy("Run the load balancers")
def configure():
    env = host.data.env
    d = host.data
    apt.packages(name="Install HAProxy and keepalived", packages=["haproxy", "keepalived"])
    files.directory(name="Create the certificate folder", path="/etc/haproxy/certs", mode="0700")

    # HAProxy refuses to start without a certificate. Until certbot has one,
    # serve a stand-in from the internal CA; certbot's deploy hook replaces it.
    if not host.get_fact(File, path=f"/etc/letsencrypt/renewal/{d.site_name}.conf"):
        key, crt = secrets.leaf(env, f"site-standin-{host.name}", [d.site_name], [])
        files.put(
            name="Install a stand-in certificate until ACME issues one",
            src=StringIO(crt.read_text() + key.read_text()),
            dest=SITE_PEM, mode="0600",
        )

    dh = files.put(name="Install the Diffie-Hellman group (ffdhe2048)",
                   src=str(HERE / "ffdhe2048.pem"), dest="/etc/haproxy/ffdhe2048.pem", mode="0644")
    cidrs = files.put(
        name="List the address ranges allowed on admin paths",
        src=StringIO("".join(f"{c}\n" for c in d.admin_cidrs)),
        dest="/etc/haproxy/admin-cidrs.lst", mode="0644",
    )
    lb_names, lb_addresses = topology.names("lb"), topology.addresses("lb")
    cfg = files.template(
        name="Configure HAProxy",
        src=str(HERE / "templates/haproxy.cfg.j2"),
        dest="/etc/haproxy/haproxy.cfg", mode="0644",
        site_name=d.site_name,
        app_servers=list(zip(topology.names("app"), topology.addresses("app"))),
        app_port=d.app_port,
        # Requests in flight per node: its waitress threads (roles/app); more wait in HAProxy's queue.
        app_threads=d.app_threads,
        acme_port=d.acme_http_port,
        lb_peers=[(n, a) for n, a in zip(lb_names, lb_addresses) if n != host.name],
    )
    server.shell(name="Check the HAProxy configuration",
                 commands=["haproxy -c -q -f /etc/haproxy/haproxy.cfg"],
                 _if=lambda: any(op.did_change() for op in [cfg, cidrs, dh]))
    systemd.service(name="Start and enable HAProxy", service="haproxy.service",
                    running=True, enabled=True)
    # A reload starts new workers on the same sockets; old ones finish their requests.
    systemd.service(name="Reload HAProxy", service="haproxy.service", running=True,
                    reloaded=True, _if=lambda: any(op.did_change() for op in [cfg, cidrs, dh]))

    priorities = d.vrrp_priorities
    ka = files.template(
        name="Configure keepalived",
        src=str(HERE / "templates/keepalived.conf.j2"),
        dest="/etc/keepalived/keepalived.conf", mode="0600",
        host_name=host.name,
        priority=priorities[host.name],
        max_priority=max(priorities.values()),
        vrrp_interface=d.vrrp_interface,
        vrrp_router_id=d.vrrp_router_id,
        own_address=d.ssh_hostname,
        peer_addresses=[a for n, a in zip(lb_names, lb_addresses) if n != host.name],
        vrrp_auth=secrets.password(env, "vrrp-auth"),
        vip=d.vip, vip_prefix=d.vip_prefix,
    )
    systemd.service(name="Start and enable keepalived", service="keepalived.service",
                    running=True, enabled=True)
    systemd.service(name="Reload keepalived", service="keepalived.service", running=True,
                    reloaded=True, _if=ka.did_change)
