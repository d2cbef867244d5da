"""The database cluster as deployed: Patroni with a leader and a synchronous,
TLS-streaming replica, etcd with three members, and an app role that can only
read and append to the audit table (O-REDUNDANT, S-AUDIT, S-TLS)."""

import json

import pytest

import dbdrill
from labkit import SECRETS, on

req = pytest.mark.req


@req("O-REDUNDANT")
def test_patroni_has_a_leader_and_a_synchronous_streaming_replica():
    lead = dbdrill.healthy_cluster()
    members = {m["Member"]: m for m in json.loads(on(lead, "patronictl list -f json"))}
    assert set(members) == {"db1", "db2"}
    assert members[lead]["Role"] == "Leader"
    standby = members[dbdrill.other(lead)]
    # Synchronous: the standby has every acknowledged commit (zero-loss failover).
    assert standby["Role"] == "Sync Standby"
    assert standby["State"] == "streaming"


@req("O-REDUNDANT")
def test_etcd_has_three_healthy_members():
    out = on("mon1", "ETCDCTL_API=3 etcdctl --endpoints=http://10.77.0.31:2379,"
                     "http://10.77.0.32:2379,http://10.77.0.51:2379 endpoint health 2>&1")
    assert out.count("is healthy") == 3, out


@req("S-TLS")
def test_replication_runs_over_tls():
    lead = dbdrill.healthy_cluster()
    out = dbdrill.psql(lead, "select r.usename, s.ssl from pg_stat_replication r "
                             "join pg_stat_ssl s using (pid)", db="postgres")
    assert out.split() == ["replicator|t"]


def test_app_uses_the_multi_host_url_and_finds_the_primary():
    env = on("app1", "cat /etc/mimamori/secrets.env")
    url = next(l for l in env.splitlines() if l.startswith("MIMAMORI_DATABASE_URL="))
    assert "host=db1:5432" in url and "host=db2:5432" in url
    assert "target_session_attrs=read-write" in url and "sslmode=verify-full" in url
    assert "mimamori_app:" in url


def _as_app(sql: str) -> str:
    password = (SECRETS / "db-app-password").read_text().strip()
    return on("app1", f"PGPASSWORD='{password}' psql -X -At 'host=db1,db2 dbname=mimamori "
                      "user=mimamori_app sslmode=verify-full sslrootcert=/etc/mimamori/internal-ca.crt "
                      f"target_session_attrs=read-write' -c \"{sql}\" 2>&1", check=False)


@req("S-AUDIT")
def test_the_app_role_cannot_update_or_delete_audit_records():
    # A permission error, raised before the table's own trigger could refuse:
    # the role itself lacks the privilege.
    assert "permission denied for table audit_records" in _as_app(
        "UPDATE audit_records SET id = id")
    assert "permission denied for table audit_records" in _as_app("DELETE FROM audit_records")
    assert "permission denied for table audit_records" in _as_app("TRUNCATE audit_records")


@req("S-AUDIT")
def test_the_app_role_reads_audit_records_and_owns_no_table():
    assert _as_app("SELECT count(*) FROM audit_records").strip().isdigit()
    lead = dbdrill.healthy_cluster()
    owners = dbdrill.psql(lead, "select distinct tableowner from pg_tables where schemaname = 'public'")
    assert owners.split() == ["mimamori_owner"]
