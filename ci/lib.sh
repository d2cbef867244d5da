# Shared helpers for ci/ scripts. Source it; do not run it.
# Everything here is idempotent: safe to run again on a machine that has it all.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$REPO_ROOT/.venv"
OPS_VENV="$REPO_ROOT/.venv-ops"
LOCKS="$REPO_ROOT/locks"
# apt waits this long for another apt/dpkg (an unattended upgrade, a second
# engineer's run) to release its lock instead of failing at once.
APT_LOCK_WAIT=600
APT_GET=(apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_WAIT")

log() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    # Install Debian packages that are missing, and only those.
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing Debian packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" update -qq
        as_root env DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

python311() {
    # Python 3.11 is Debian 12's python3; a pyenv or other 3.11 on PATH works too.
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            echo "$candidate"; return 0
        fi
    done
    apt_install python3 python3-venv
    echo python3
}

ensure_venv() {
    # The project's virtualenv with the app and its test extras, installed only
    # from locks/app-test.txt (hash-checked, nothing resolved) and the app itself
    # with --no-deps, built by the locked setuptools (--no-build-isolation).
    local py
    py=$(python311)
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV"
        if ! "$py" -m venv "$VENV" 2>/dev/null; then
            apt_install python3-venv
            "$py" -m venv "$VENV"
        fi
    fi
    local stamp="$VENV/.installed-$(cat "$REPO_ROOT/pyproject.toml" "$LOCKS/app-test.txt" | sha256sum | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        log "installing mimamori and its locked dependencies into $VENV"
        pip_locked "$VENV" "$LOCKS/app-test.txt" || return 1
        "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$REPO_ROOT" || return 1
        rm -f "$VENV"/.installed-* && touch "$stamp"
    fi
}

pip_locked() {
    # pip install exactly a lock file into a virtualenv: every requirement pinned
    # and hash-checked (whatever index or mirror pip is configured with, a file
    # whose hash is not in the lock is refused), nothing resolved. The lock's
    # setuptools and wheel go in first: sdists in the lock (e.g. sslyze) are
    # built with them (--no-build-isolation), not with whatever venv brought.
    local venv=$1 lock=$2 build
    build=$(mktemp)
    awk '/^[A-Za-z0-9]/ { keep = ($1 ~ /^(setuptools|wheel|packaging)==/) } keep' "$lock" > "$build"
    local status=0
    if [ -s "$build" ]; then
        _pip_hashed "$venv" "$build" --no-deps || status=$?
    fi
    rm -f "$build"
    [ "$status" -eq 0 ] || return "$status"
    _pip_hashed "$venv" "$lock"
}

_pip_hashed() {
    "$1/bin/pip" install -q --disable-pip-version-check --require-hashes \
        --no-build-isolation "${@:3}" -r "$2" 2>&1 | { grep -v "^WARNING: Location" || true; } >&2
    return "${PIPESTATUS[0]}"
}

ensure_ops_venv() {
    # The control virtualenv (.venv-ops) with pyinfra and the wheel builds' tools,
    # from locks/tools.txt only; rebuilt when that lock changes. Debian's Python:
    # the same 3.11 as the hosts, so the wheels built here fit them.
    local stamp="$OPS_VENV/.req-$(sha256sum "$LOCKS/tools.txt" | cut -c1-16)"
    [ -f "$stamp" ] && return 0
    log "preparing the control virtualenv ($OPS_VENV)"
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    rm -rf "$OPS_VENV"
    /usr/bin/python3 -m venv "$OPS_VENV"
    pip_locked "$OPS_VENV" "$LOCKS/tools.txt" || return 1
    "$OPS_VENV/bin/python" -c 'import pyinfra, setuptools, wheel' \
        || { echo "control virtualenv install failed" >&2; return 1; }
    touch "$stamp"
}
