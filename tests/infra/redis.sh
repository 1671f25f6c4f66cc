# Sourced by ./test.sh: a throwaway Redis server for the tests, from Debian's `redis-server` package, on a free
# loopback port, with its folder fresh, run as a non-root user (`redis` when the script runs as root).
#
#   start_redis    installs the package if missing, starts the server, exports CONCLAVE_TEST_REDIS
#   stop_redis     stops it and removes its folder (safe to call when it never started)
#
# CONCLAVE_TEST_REDIS is a StackExchange.Redis configuration string (host:port). The tests restart this server
# mid-run (`redis-cli -p PORT shutdown nosave`, then the same command line again): CONCLAVE_TEST_REDIS_START
# holds that command line.

REDIS_DIR=
REDIS_AS=()

start_redis() {
    command -v redis-server >/dev/null 2>&1 || install_debian_packages redis-server
    REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/conclave-redis.XXXXXX")
    service_account redis "$REDIS_DIR"
    REDIS_AS=("${SERVICE_AS[@]}")

    local port
    port=$(free_port)
    step "starting Redis on 127.0.0.1:$port (folder $REDIS_DIR)"
    # No persistence: what Conclave keeps lives in its database; Redis only carries messages between processes.
    local start="${REDIS_AS[*]} redis-server --bind 127.0.0.1 --port $port --dir $REDIS_DIR --save '' --appendonly no --daemonize yes --logfile $REDIS_DIR/redis.log --pidfile $REDIS_DIR/redis.pid"
    bash -c "$start" || die "Redis did not start"
    local deadline=$((SECONDS + 30))
    until redis-cli -p "$port" ping >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { cat "$REDIS_DIR/redis.log"; die "Redis did not answer within 30 s"; }
        sleep 0.2
    done
    export CONCLAVE_TEST_REDIS="127.0.0.1:$port" CONCLAVE_TEST_REDIS_START="$start"
}

stop_redis() {
    if [[ -n ${CONCLAVE_TEST_REDIS:-} ]]; then
        redis-cli -p "${CONCLAVE_TEST_REDIS##*:}" shutdown nosave >/dev/null 2>&1 || true
    fi
    [[ -z $REDIS_DIR ]] || rm -rf "$REDIS_DIR"
    REDIS_DIR=
}
