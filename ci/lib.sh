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

# -- Steps, and what a newcomer sees when one fails ----------------------------
# `step NAME [HINT]` starts a stage and prints it like `log`. A script that ends
# with a failing exit status and calls `explain_failure $?` from its EXIT trap
# prints one paragraph after pytest's or apt's own output: which step failed,
# how long it had run, and the step's hint (what usually causes that failure,
# what to run next). Helpers that run inside a step (apt_install, pip_locked)
# name themselves for their duration and then give the step back.
_RUN_STARTED=$SECONDS
CURRENT_STEP="" CURRENT_HINT="" _STEP_STARTED=$SECONDS

STEP_TIMES=()
step() {
    [ -n "$CURRENT_STEP" ] && STEP_TIMES+=("$(printf '%5d s  %s' $((SECONDS - _STEP_STARTED)) "$CURRENT_STEP")")
    CURRENT_STEP=$1 CURRENT_HINT=${2:-} _STEP_STARTED=$SECONDS
    log "$1"
}

step_times() {
    # How long each step took (what the README's durations are measured with).
    [ -n "$CURRENT_STEP" ] && STEP_TIMES+=("$(printf '%5d s  %s' $((SECONDS - _STEP_STARTED)) "$CURRENT_STEP")")
    CURRENT_STEP=""
    log "time per step"
    printf '%s\n' "${STEP_TIMES[@]}" >&2
}

explain_failure() {
    local rc=$1
    [ "$rc" -eq 0 ] && return 0
    {
        printf '\n!!! %s stopped with exit code %d' "$(basename "$0")" "$rc"
        if [ -n "$CURRENT_STEP" ]; then
            printf ' in the step "%s" (%d s into the step, %d s into the run).\n' \
                "$CURRENT_STEP" $((SECONDS - _STEP_STARTED)) $((SECONDS - _RUN_STARTED))
        else
            printf ' after %d s.\n' $((SECONDS - _RUN_STARTED))
        fi
        printf '    What the step printed is just above this message.\n'
        [ -n "$CURRENT_HINT" ] && printf '%s\n' "$CURRENT_HINT" | fold -s -w 96 | sed 's/^/    /'
    } >&2
    return 0
}

HINT_APT="apt could not install them. This machine must reach Debian's mirror (deb.debian.org, \
or the one in /etc/apt/sources.list*), and you must be root or allowed to use sudo. Another apt \
or dpkg run holding the dpkg lock (unattended-upgrades, a second terminal) is waited for up to \
10 minutes; if it still held it, let it finish and run the command again."

HINT_PIP="pip could not install the locked packages (locks/, README: Dependencies and locks). \
PyPI, or the index in PIP_INDEX_URL, must be reachable. 'THESE PACKAGES DO NOT MATCH THE HASHES' \
means a downloaded file is not the one the lock names: never edit a hash by hand; if \
pyproject.toml changed, run bash ci/lock and commit the locks. 'Could not find a version' \
after a pyproject edit means the same. The virtualenv is not marked installed, so the next run \
installs again."

HINT_TESTS="A test failed: pytest's short summary above names it (FAILED tests/...::test_name) \
with its assertion. Run only that test again: .venv/bin/python -m pytest -x 'tests/...::test_name', \
or through every stage: bash ci/test -x -k test_name."

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
        # Named for its own duration (not a step of its own in the times).
        local outer_step=$CURRENT_STEP outer_hint=$CURRENT_HINT outer_started=$_STEP_STARTED
        CURRENT_STEP="installing Debian packages: ${missing[*]}" CURRENT_HINT=$HINT_APT _STEP_STARTED=$SECONDS
        log "$CURRENT_STEP"
        as_root env DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" update -qq || return 1
        as_root env DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
        CURRENT_STEP=$outer_step CURRENT_HINT=$outer_hint _STEP_STARTED=$outer_started
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
        step "installing mimamori and its locked dependencies into $VENV" "$HINT_PIP"
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
    step "preparing the control virtualenv ($OPS_VENV)" "$HINT_PIP"
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
    rm -rf "$OPS_VENV"
    /usr/bin/python3 -m venv "$OPS_VENV"
    pip_locked "$OPS_VENV" "$LOCKS/tools.txt" || return 1
    "$OPS_VENV/bin/python" -c 'import pyinfra, setuptools, wheel' \
        || { echo "control virtualenv install failed" >&2; return 1; }
    touch "$stamp"
}
