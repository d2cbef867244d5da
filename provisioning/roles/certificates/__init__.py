"""The public TLS certificate of the site, from an ACME CA with certbot, on each
load balancer; renewed by Debian's certbot.timer; installed into HAProxy by a
deploy hook that reloads it without dropping connections.

Each load balancer holds its own certificate for the same name, so either can
carry the VIP. HTTP-01 challenges arrive at whichever node holds the VIP; its
HAProxy sends them to the local certbot, or to the peer's while the peer is the
one renewing (see the lb role's acme backend).
"""

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

HERE = Path(__file__).parent
HOOK = "/usr/local/sbin/mimamori-install-site-certificate"


@deploy("Obtain and renew the site certificate")
def configure():
    d = host.data
    apt.packages(name="Install certbot", packages=["certbot"])
    files.template(
        name="Install the hook that hands new certificates to HAProxy",
        src=str(HERE / "templates/install-site-certificate.sh.j2"),
        dest=HOOK, mode="0755", site_name=d.site_name,
    )
    if not host.get_fact(File, path=f"/etc/letsencrypt/renewal/{d.site_name}.conf"):
        # certbot stores server, port and hook in its renewal configuration,
        # so the timer's `certbot renew` repeats exactly this.
        server.shell(
            name="Request the site certificate",
            commands=[
                f"for i in $(seq 30); do curl -sf -o /dev/null {d.acme_directory} && break; sleep 1; done",
                "certbot certonly --non-interactive --agree-tos"
                f" --email {d.acme_email} --server {d.acme_directory}"
                f" --standalone --http-01-port {d.acme_http_port}"
                f" --cert-name {d.site_name} -d {d.site_name}"
                f" --deploy-hook {HOOK}",
            ],
        )
    systemd.service(name="Enable the renewal timer", service="certbot.timer",
                    running=True, enabled=True)
