# Shared helpers for ci/ scripts. Source it; do not run it.
# Everything here is idempotent: safe to run again on a machine that has it all.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$REPO_ROOT/.venv"

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
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
    # The project's virtualenv with the app and its test extras.
    local py
    py=$(python311)
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV"
        if ! "$py" -m venv "$VENV" 2>/dev/null; then
            apt_install python3-venv
            "$py" -m venv "$VENV"
        fi
    fi
    local stamp="$VENV/.installed-$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        log "installing mimamori and its dependencies into $VENV"
        "$VENV/bin/pip" install -q --upgrade pip
        "$VENV/bin/pip" install -q -e "$REPO_ROOT[test]"
        rm -f "$VENV"/.installed-* && touch "$stamp"
    fi
}
