"""etcd, the distributed configuration store Patroni keeps its leader key in.

Three members (the two database nodes and mon1) so that losing any one host
keeps a quorum, and a database node cut off from the other two loses it: that
loss is what makes an isolated leader demote itself instead of staying primary.
"""

from io import StringIO
from pathlib import Path

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd

HERE = Path(__file__).parent
# Not the package's /var/lib/etcd/default: Debian's package starts a one-member
# etcd on install, and a data folder bootstrapped that way refuses to join a cluster.
DATA_DIR = "/var/lib/etcd/mimamori"


def members() -> list[tuple[str, str]]:
    return [(h.name, h.data.ssh_hostname) for h in inventory.get_group("etcd", [])]


def client_urls() -> list[str]:
    return [f"{address}:2379" for _, address in members()]


@deploy("Run an etcd member")
def configure():
    apt.packages(name="Install etcd", packages=["etcd-server", "etcd-client"])
    address = host.data.ssh_hostname
    conf = files.template(
        name="Configure the etcd member",
        src=str(HERE / "templates/etcd.default.j2"),
        dest="/etc/default/etcd",
        mode="0644",
        name_=host.name, address=address, data_dir=DATA_DIR,
        cluster=",".join(f"{n}=http://{a}:2380" for n, a in members()),
        token=f"mimamori-{host.data.env}",
    )
    files.directory(name="Create the etcd data folder", path=DATA_DIR,
                    user="etcd", group="etcd", mode="0700")
    # A member waits for its peers before it reports ready: start without
    # blocking on every member, then wait for the quorum below.
    server.shell(
        name="Start etcd on every member",
        commands=["systemctl enable etcd >/dev/null 2>&1; systemctl restart --no-block etcd"],
        _if=conf.did_change,
    )
    systemd.service(name="Enable etcd at boot", service="etcd.service", enabled=True)
    server.shell(
        name="Wait for the etcd quorum",
        commands=["for i in $(seq 120); do ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379"
                  " endpoint health >/dev/null 2>&1 && exit 0; sleep 0.5; done;"
                  " echo 'etcd has no quorum' >&2; exit 1"],
        _if=conf.did_change,
    )
