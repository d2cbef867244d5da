# A throwaway PostgreSQL 15 cluster for the test suite. Source it; do not run it.
# PostgreSQL refuses to run as root, so as root the cluster runs as `postgres`.

PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=${MIMAMORI_TEST_PG_PORT:-55432}

ensure_postgres_installed() {
    if [ ! -x "$PG_BIN/initdb" ]; then
        # Debian's package would create and start a "main" cluster we do not want.
        as_root mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
        apt_install postgresql-15
    fi
}

_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
    ensure_postgres_installed
    PG_DIR=$(mktemp -d /tmp/mimamori-pg.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
    step "starting a throwaway PostgreSQL 15 in $PG_DIR on 127.0.0.1:$PG_PORT" \
        "PostgreSQL did not start; the end of its log is printed above (the cluster is removed at exit). \
'could not bind' or 'Address already in use': port $PG_PORT is taken, perhaps by another ci/test \
run; give a free one with MIMAMORI_TEST_PG_PORT=55439 bash ci/test."
    _pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # fsync off: a test cluster that is thrown away need not survive a crash.
    _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
        || { tail -n 15 "$PG_DIR/log" >&2; return 1; }
    _pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres mimamori_test
    export MIMAMORI_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/mimamori_test"
}

stop_test_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
