#!/usr/bin/env bash
# Conclave's one test command: build (the web client too), .NET tests (on SQLite, and on real PostgreSQL and Redis
# servers it starts), the web client's unit tests, then the end-to-end suites against a real server: Python over the protocol,
# and the web client in real Chromium; then both again against two instances behind a load balancer.
#
#   ./test.sh                  everything
#   ./test.sh -k resume        extra arguments go to pytest (the e2e suite)
#
# Environment switches:
#   SKIP_DOTNET_TESTS=1   skip `dotnet test` (still builds: the e2e server needs it), and PostgreSQL and Redis with it
#   SKIP_E2E=1            skip both e2e suites (and their Debian packages)
#   SKIP_WEB_E2E=1        skip the browser suite only (and Chromium)
#   SKIP_BENCH_SMOKE=1    skip the benchmark's smoke run
#   SKIP_CLUSTER_E2E=1    skip the e2e suites' second run, against two instances on PostgreSQL and Redis
#   DOTNET_TEST_ARGS=...  extra arguments for `dotnet test`, split on spaces (e.g. "--filter Category=Fast")
#   E2E_PYTHON=...        the Python with pytest & co. (default /usr/bin/python3, the Debian one)
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)

SOLUTION=Conclave.slnx
SERVER_PROJECT_DIR=src/Conclave.Server
SERVER_DLL=$SERVER_PROJECT_DIR/bin/Release/net10.0/Conclave.Server.dll
E2E_PACKAGES=(python3-pytest python3-pytest-asyncio python3-websockets python3-httpx)
# Debian's Chromium for the browser suite: Playwright cannot download a browser here, so it is pointed at this one.
WEB_E2E_PACKAGES=(chromium)
CHROMIUM=/usr/bin/chromium
PY=${E2E_PYTHON:-/usr/bin/python3}
[[ -x $PY ]] || PY=python3

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

# ─── (a) Debian packages: the e2e suites' and PostgreSQL's ───────────────────
# Installs those of the given packages that are missing.
install_debian_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0

    step "installing ${missing[*]}"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need root or sudo to install ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

if [[ ${SKIP_E2E:-0} != 1 ]]; then
    [[ ${SKIP_WEB_E2E:-0} == 1 ]] || E2E_PACKAGES+=("${WEB_E2E_PACKAGES[@]}")
    if command -v dpkg >/dev/null 2>&1; then
        install_debian_packages "${E2E_PACKAGES[@]}"
    elif ! "$PY" -c 'import pytest, pytest_asyncio, websockets, httpx' 2>/dev/null; then
        die "no dpkg here: install pytest, pytest-asyncio, websockets and httpx for $PY (and Chromium at $CHROMIUM) yourself"
    fi
fi

# shellcheck source=tests/infra/common.sh
source tests/infra/common.sh
# shellcheck source=tests/infra/postgres.sh
source tests/infra/postgres.sh
# shellcheck source=tests/infra/redis.sh
source tests/infra/redis.sh

# What the run leaves behind (the e2e server's data, PostgreSQL) goes when it ends, however it ends.
TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/conclave-e2e.XXXXXX")
SERVER_LOG=$TMP_DIR/server.log
SERVER_PIDS=()

cleanup() {
    local rc=$? pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${SERVER_PIDS[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $rc -ne 0 ]]; then
        local log
        for log in "$TMP_DIR"/*.log; do
            [[ -s $log ]] || continue
            printf '\n==> last 200 lines of %s\n' "$log" >&2
            tail -n 200 "$log" >&2 || true
        done
    fi
    stop_redis
    stop_postgres
    rm -rf "$TMP_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ─── (b) build ───────────────────────────────────────────────────────────────
command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH (the SDK in global.json is needed)"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH (the server's build builds the web client in web/ with it)"
[[ -f $SOLUTION ]] || die "$SOLUTION not found in $ROOT"

step "dotnet restore"
dotnet restore "$SOLUTION"
step "dotnet build -c Release"
dotnet build "$SOLUTION" -c Release --no-restore

# ─── (c) .NET tests ──────────────────────────────────────────────────────────
if [[ ${SKIP_DOTNET_TESTS:-0} != 1 ]]; then
    # The MCP host's tests run npm's reference MCP servers (tests/mcp-servers/package.json): installed from its lock
    # file when a server is missing or the lock is newer than the install, and found through CONCLAVE_TEST_MCP_BIN.
    mcp_dir=tests/mcp-servers
    if [[ ! -x $mcp_dir/node_modules/.bin/mcp-server-everything || ! -x $mcp_dir/node_modules/.bin/mcp-server-filesystem ||
        $mcp_dir/package-lock.json -nt $mcp_dir/node_modules/.package-lock.json ]]; then
        step "npm ci ($mcp_dir: the reference MCP servers)"
        (cd "$mcp_dir" && npm ci --no-audit --no-fund)
    fi
    export CONCLAVE_TEST_MCP_BIN="$ROOT/$mcp_dir/node_modules/.bin"
    # The storage contract suite and the tests on PostgreSQL need a real PostgreSQL server; those of several
    # instances, a real Redis server too.
    start_postgres
    start_redis
    read -r -a dotnet_test_args <<<"${DOTNET_TEST_ARGS:-}"
    step "dotnet test -c Release ${DOTNET_TEST_ARGS:-}"
    dotnet test "$SOLUTION" -c Release --no-build "${dotnet_test_args[@]}"
else
    step "dotnet test skipped (SKIP_DOTNET_TESTS=1)"
fi

# ─── (c1) the web client's unit tests (Node's own test runner) ───────────────
step "web client unit tests: npm run test:unit (web/)"
(cd web && npm run --silent test:unit)

# ─── (c2) the benchmark at smoke sizes: it must keep working; it asserts no speed ───
if [[ ${SKIP_BENCH_SMOKE:-0} != 1 ]]; then
    step "benchmark smoke run"
    BENCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/conclave-bench.XXXXXX")
    dotnet bench/Conclave.Bench/bin/Release/net10.0/Conclave.Bench.dll run --smoke --out "$BENCH_OUT" >"$BENCH_OUT/run.log" 2>&1 \
        || { cat "$BENCH_OUT/run.log"; die "the benchmark smoke run failed"; }
    for chart in 1 2 3 4 5 6; do
        [[ -s $BENCH_OUT/scenario-$chart.png ]] || die "the benchmark smoke run wrote no chart for scenario $chart"
    done
    echo "benchmark smoke run: ok (report and charts in $BENCH_OUT)"
fi

if [[ ${SKIP_E2E:-0} == 1 ]]; then
    step "e2e suite skipped (SKIP_E2E=1)"
    exit 0
fi

# ─── (d) a real server on a free loopback port ───────────────────────────────
[[ -f $SERVER_DLL ]] || die "$SERVER_DLL not found after the build"

E2E_STATUS=0
ADMIN_KEY=$("$PY" -c 'import secrets; print("e2e-admin-" + secrets.token_hex(24))')

healthy() {
    "$PY" - "$1/healthz" <<'EOF' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

# start_server URL DATA_DIR LOG [NAME=VALUE ...]: the server on URL, builtin model, this run's admin key, extra settings
# as environment variables; waits for /healthz. Started from the project folder, as `dotnet run` would, so its
# appsettings.json applies. Its pid joins SERVER_PIDS, which the cleanup stops.
start_server() {
    local url=$1 data=$2 log=$3 pid code deadline
    shift 3
    pushd "$SERVER_PROJECT_DIR" >/dev/null
    env Conclave__DataDir="$data" Conclave__Auth__AdminKey="$ADMIN_KEY" Conclave__Llm__Builtin__TokenDelayMs=1 "$@" \
        dotnet "$ROOT/$SERVER_DLL" --urls "$url" >"$log" 2>&1 </dev/null &
    pid=$!
    SERVER_PIDS+=("$pid")
    popd >/dev/null
    deadline=$((SECONDS + 60))
    until healthy "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null && code=0 || code=$?
            die "the server at $url exited (status $code) before /healthz answered"
        fi
        ((SECONDS < deadline)) || die "GET $url/healthz did not answer 200 within 60 s"
        sleep 0.5
    done
    echo "server is up at $url (pid $pid)"
}

BASE_URL=http://127.0.0.1:$(free_port)
step "starting Conclave.Server on $BASE_URL (data in $TMP_DIR)"
start_server "$BASE_URL" "$TMP_DIR/data" "$SERVER_LOG"

# ─── (e) the e2e suites ──────────────────────────────────────────────────────
step "e2e suite: $PY -m pytest tests/e2e"
CONCLAVE_BASE_URL=$BASE_URL CONCLAVE_API_KEY=$ADMIN_KEY PYTHONDONTWRITEBYTECODE=1 \
    "$PY" -m pytest tests/e2e -v -p no:cacheprovider "$@" || E2E_STATUS=$?

if [[ ${SKIP_WEB_E2E:-0} != 1 ]]; then
    step "browser suite: npm run test:e2e (web/, Chromium at $CHROMIUM; screenshots in web/test-results/screenshots)"
    (cd web && CONCLAVE_BASE_URL=$BASE_URL CONCLAVE_API_KEY=$ADMIN_KEY CHROMIUM_PATH=$CHROMIUM npm run --silent test:e2e) || E2E_STATUS=$?
else
    step "browser suite skipped (SKIP_WEB_E2E=1)"
fi

# ─── (f) the e2e suite again, against two instances behind a load balancer ───
# Two servers on one PostgreSQL database, joined through Redis, behind a proxy that hands each new connection to the
# next server: a run's socket and the REST calls about it land on either.
if [[ ${SKIP_CLUSTER_E2E:-0} != 1 ]]; then
    [[ -n ${CONCLAVE_TEST_POSTGRES:-} ]] || start_postgres
    [[ -n ${CONCLAVE_TEST_REDIS:-} ]] || start_redis
    "${PG_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U conclave conclave_e2e
    cluster=(Conclave__Storage__Provider=Postgres
        "Conclave__Storage__ConnectionString=Host=127.0.0.1;Port=$PG_PORT;Username=conclave;Database=conclave_e2e"
        "Conclave__Cluster__Redis=$CONCLAVE_TEST_REDIS")
    port_a=$(free_port)
    port_b=$(free_port)
    step "starting two instances on 127.0.0.1:$port_a and :$port_b (PostgreSQL database conclave_e2e, Redis $CONCLAVE_TEST_REDIS)"
    start_server "http://127.0.0.1:$port_a" "$TMP_DIR/data-a" "$TMP_DIR/server-a.log" "${cluster[@]}"
    start_server "http://127.0.0.1:$port_b" "$TMP_DIR/data-b" "$TMP_DIR/server-b.log" "${cluster[@]}"
    port_lb=$(free_port)
    "$PY" tests/infra/round_robin_proxy.py "$port_lb" "$port_a" "$port_b" >"$TMP_DIR/proxy.log" 2>&1 &
    SERVER_PIDS+=("$!")
    until healthy "http://127.0.0.1:$port_lb"; do sleep 0.2; done
    step "e2e suite against both, through the round-robin proxy on 127.0.0.1:$port_lb"
    CONCLAVE_BASE_URL=http://127.0.0.1:$port_lb CONCLAVE_API_KEY=$ADMIN_KEY PYTHONDONTWRITEBYTECODE=1 \
        "$PY" -m pytest tests/e2e -v -p no:cacheprovider "$@" || E2E_STATUS=$?
    if [[ ${SKIP_WEB_E2E:-0} != 1 ]]; then
        step "browser suite against both, through the round-robin proxy (screenshots in web/test-results/screenshots)"
        (cd web && CONCLAVE_BASE_URL=http://127.0.0.1:$port_lb CONCLAVE_API_KEY=$ADMIN_KEY CHROMIUM_PATH=$CHROMIUM \
            npm run --silent test:e2e) || E2E_STATUS=$?
    fi
else
    step "e2e suite against two instances skipped (SKIP_CLUSTER_E2E=1)"
fi

for pid in "${SERVER_PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "test.sh: a server (pid $pid) died during the e2e suites" >&2
        [[ $E2E_STATUS -ne 0 ]] || E2E_STATUS=1
    fi
done
exit "$E2E_STATUS"
