# Sourced by ./test.sh: a throwaway PostgreSQL server for the tests, from Debian's `postgresql` package, on a free
# loopback port, with its data in a fresh folder, run as a non-root user (`postgres` when the script runs as root).
#
#   start_postgres    installs the package if missing, starts the server (PG_BIN, PG_PORT), exports CONCLAVE_TEST_POSTGRES
#   stop_postgres     stops it and removes its folder (safe to call when it never started)
#
# CONCLAVE_TEST_POSTGRES is an Npgsql connection string of a superuser role `conclave` (trust on loopback: the
# server lives as long as the test run and listens on 127.0.0.1 only).

PG_DIR=
PG_BIN=
PG_PORT=
PG_AS=()

find_postgres_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]] && echo "$dir"
}

start_postgres() {
    PG_BIN=$(find_postgres_bin) || true
    if [[ -z $PG_BIN ]]; then
        install_debian_packages postgresql
        PG_BIN=$(find_postgres_bin) || die "postgresql is installed but no initdb was found under /usr/lib/postgresql"
    fi

    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/conclave-pg.XXXXXX")
    service_account postgres "$PG_DIR"
    PG_AS=("${SERVICE_AS[@]}")

    local port
    port=$(free_port)
    step "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$port (data in $PG_DIR)"
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U conclave --auth=trust --no-locale -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log"; die "initdb failed"; }
    # A throwaway cluster: no fsync (nothing here must outlive the run), sockets in its own folder.
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null || { cat "$PG_DIR/server.log"; die "PostgreSQL did not start"; }
    PG_PORT=$port
    export CONCLAVE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=conclave;Database=postgres"
}

stop_postgres() {
    if [[ -n $PG_DIR && -d $PG_DIR/data ]]; then
        "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    [[ -z $PG_DIR ]] || rm -rf "$PG_DIR"
    PG_DIR=
}
