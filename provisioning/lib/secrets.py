"""Per-environment secrets and the internal CA, kept on the control machine.

Contract: ``ensure(env)`` makes sure ``provisioning/secrets/<env>/`` holds every
secret the deploy needs, generating what is missing and never replacing what is
there. The folder is git-ignored. To take secrets from a vault instead, fill the
same files from the vault before the deploy (runbooks/deploy.md) or point
``MIMAMORI_SECRETS_DIR`` at a folder a vault agent renders; nothing is then
generated, because every file already exists.

Each environment has its own internal CA and its own passwords (S-SEP): a
deploy refuses to run when two environments' CAs are the same certificate.
"""

from __future__ import annotations

import hashlib
import os
import secrets as pysecrets
import subprocess
import tempfile
from pathlib import Path

PROVISIONING = Path(__file__).resolve().parent.parent

# Leaf certificates live 90 days and are re-issued by any deploy that runs in
# the last 30: regular deploys therefore rotate them without anyone asking.
LEAF_DAYS = 90
RENEW_BEFORE_SECONDS = 30 * 24 * 3600
CA_DAYS = 3650

# name -> (length in characters, alphabet note). VRRP's PASS authentication
# only uses the first 8 characters, so that one is generated at 8.
PASSWORDS = {
    "db-app-password": 40,
    "session-secret": 64,
    "vrrp-auth": 8,
    # The database cluster (roles/db): Patroni's superuser, replication and
    # pg_rewind roles, the migrations' owner-side login, Patroni's REST API.
    "db-superuser-password": 40,
    "db-replication-password": 40,
    "db-rewind-password": 40,
    "db-migrate-password": 40,
    "patroni-rest-password": 40,
}


def root() -> Path:
    return Path(os.environ.get("MIMAMORI_SECRETS_DIR", PROVISIONING / "secrets"))


def env_dir(env: str) -> Path:
    return root() / env


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with 0600 permissions so a crash never leaves half a key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _openssl(*args: str) -> bytes:
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


def password(env: str, name: str) -> str:
    return (env_dir(env) / name).read_text().strip()


def ca_paths(env: str) -> tuple[Path, Path]:
    d = env_dir(env) / "internal-ca"
    return d / "ca.key", d / "ca.crt"


def _ensure_ca(env: str) -> None:
    key, crt = ca_paths(env)
    if key.exists() and crt.exists():
        return
    key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory() as tmp:
        tkey, tcrt = Path(tmp) / "ca.key", Path(tmp) / "ca.crt"
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", str(tkey), "-out", str(tcrt), "-days", str(CA_DAYS),
            "-subj", f"/O=Mimamori/CN=Mimamori {env} internal CA",
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )
        _write_private(key, tkey.read_bytes())
        _write_private(crt, tcrt.read_bytes())


def _leaf_is_current(crt: Path, ca_crt: Path) -> bool:
    if not crt.exists():
        return False
    if os.environ.get("MIMAMORI_ROTATE_INTERNAL_CERTS") == "1" and not _rotated_this_run(crt):
        return False
    ok_chain = subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca_crt), str(crt)], capture_output=True
    ).returncode == 0
    ok_time = subprocess.run(
        ["openssl", "x509", "-checkend", str(RENEW_BEFORE_SECONDS), "-noout", "-in", str(crt)],
        capture_output=True,
    ).returncode == 0
    return ok_chain and ok_time


_ROTATED: set[Path] = set()


def _rotated_this_run(crt: Path) -> bool:
    # pyinfra plans each host separately; a forced rotation issues a leaf once per run.
    return crt in _ROTATED


def leaf(env: str, name: str, dns: list[str], ips: list[str]) -> tuple[Path, Path]:
    """Return (key, cert) of a server certificate from the environment's internal CA,
    issuing it when missing, close to expiry, not from the current CA, or when
    MIMAMORI_ROTATE_INTERNAL_CERTS=1 asks for rotation."""
    ensure(env)
    ca_key, ca_crt = ca_paths(env)
    d = env_dir(env) / "internal-certs"
    key, crt = d / f"{name}.key", d / f"{name}.crt"
    if _leaf_is_current(crt, ca_crt):
        return key, crt
    sans = [f"DNS:{n}" for n in dns] + [f"IP:{i}" for i in ips]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "ext.cnf").write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n"
            f"subjectAltName={','.join(sans)}\n"
        )
        _openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(t / "k"), "-out", str(t / "csr"), "-subj", f"/O=Mimamori/CN={dns[0]}",
        )
        _openssl(
            "x509", "-req", "-in", str(t / "csr"), "-CA", str(ca_crt), "-CAkey", str(ca_key),
            "-set_serial", str(int.from_bytes(os.urandom(16), "big") >> 1),
            "-days", str(LEAF_DAYS), "-extfile", str(t / "ext.cnf"), "-out", str(t / "c"),
        )
        _write_private(key, (t / "k").read_bytes())
        _write_private(crt, (t / "c").read_bytes())
    _ROTATED.add(crt)
    return key, crt


def ensure(env: str) -> Path:
    d = env_dir(env)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, length in PASSWORDS.items():
        p = d / name
        if not p.exists():
            _write_private(p, pysecrets.token_urlsafe(length)[:length].encode() + b"\n")
    _ensure_ca(env)
    audit_signing_key(env)
    _check_separation()
    return d


# --- The audit checkpoints' signing key (S-AUDIT, issue #20) ---------------------------
#
# Made here, on the control machine, like every other secret: never on a database
# host, so the database and whoever holds it never see it. The formats are the app's
# (webapp/audit/anchor.py): ``<key id>.key`` the 32-byte Ed25519 seed in hex,
# ``<key id>.pub`` the public key in hex, the key id the first 16 hex digits of
# SHA-256 of the public key. ``current`` names the key that signs; every ``.pub``
# stays, so checkpoints signed before a rotation still verify after it.

AUDIT_KEYS = "audit-keys"
# PKCS#8 and SubjectPublicKeyInfo DER of an Ed25519 key end with the raw 32 bytes.
_ED25519_RAW = 32


def audit_key_dir(env: str) -> Path:
    return env_dir(env) / AUDIT_KEYS


def _new_audit_key(directory: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        pem = Path(tmp) / "k.pem"
        _openssl("genpkey", "-algorithm", "ed25519", "-out", str(pem))
        seed = _openssl("pkey", "-in", str(pem), "-outform", "DER")[-_ED25519_RAW:]
        public = _openssl("pkey", "-in", str(pem), "-pubout", "-outform", "DER")[-_ED25519_RAW:]
    key_id = hashlib.sha256(public).hexdigest()[:16]
    _write_private(directory / f"{key_id}.key", seed.hex().encode() + b"\n")
    _write_private(directory / f"{key_id}.pub", public.hex().encode() + b"\n")
    _write_private(directory / "current", key_id.encode() + b"\n")
    return key_id


def audit_signing_key(env: str) -> str:
    """The current signing key's id, making the first key pair when there is none."""
    directory = audit_key_dir(env)
    current = directory / "current"
    if current.exists():
        return current.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return _new_audit_key(directory)


def rotate_audit_signing_key(env: str) -> tuple[str | None, str]:
    """A new signing key; the old public key stays (old checkpoints keep verifying),
    the old private key is removed (nothing may sign with it any more)."""
    directory = audit_key_dir(env)
    old = (directory / "current").read_text().strip() if (directory / "current").exists() else None
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    new = _new_audit_key(directory)
    if old and old != new:
        (directory / f"{old}.key").unlink(missing_ok=True)
    return old, new


def audit_public_keys(env: str) -> list[Path]:
    return sorted(audit_key_dir(env).glob("*.pub"))


def ca_fingerprint(env: str) -> str:
    return hashlib.sha256(ca_paths(env)[1].read_bytes()).hexdigest()


def _check_separation() -> None:
    seen: dict[str, str] = {}
    for crt in sorted(root().glob("*/internal-ca/ca.crt")):
        env = crt.parent.parent.name
        fp = hashlib.sha256(crt.read_bytes()).hexdigest()
        if fp in seen:
            raise SystemExit(
                f"S-SEP violation: environments {seen[fp]!r} and {env!r} share an internal CA"
            )
        seen[fp] = env


def main(argv: list[str] | None = None) -> int:
    """``python -m lib.secrets rotate-audit-key ENV`` from provisioning/ (runbooks/security-logs.md)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m lib.secrets")
    commands = parser.add_subparsers(dest="command", required=True)
    rotate = commands.add_parser("rotate-audit-key", help="a new audit checkpoint signing key; deploy next")
    rotate.add_argument("env")
    args = parser.parse_args(argv)
    old, new = rotate_audit_signing_key(args.env)
    print(f"audit signing key {old or '(none)'} -> {new}; old public keys kept in {audit_key_dir(args.env)}")
    print(f"next: bash ci/deploy {args.env} --limit app")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
