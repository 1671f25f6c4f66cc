#!/usr/bin/env bash
# Conclave's one test command: build (the web client too), .NET tests (on SQLite, and on real PostgreSQL and Redis
# servers it starts), the web client's unit tests, then the end-to-end suites against a real server: Python over the protocol,
# and the web client in real Chromium.
#
#   ./test.sh                  everything
#   ./test.sh -k resume        extra arguments go to pytest (the e2e suite)
#
# Environment switches:
#   SKIP_DOTNET_TESTS=1   skip `dotnet test` (still builds: the e2e server needs it), and PostgreSQL and Redis with it
#   SKIP_E2E=1            skip both e2e suites (and their Debian packages)
#   SKIP_WEB_E2E=1        skip the browser suite only (and Chromium)
#   SKIP_BENCH_SMOKE=1    skip the benchmark's smoke run
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

# shellcheck source=tests/infra/postgres.sh
source tests/infra/postgres.sh
# shellcheck source=tests/infra/redis.sh
source tests/infra/redis.sh

# What the run leaves behind (the e2e server's data, PostgreSQL) goes when it ends, however it ends.
TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/conclave-e2e.XXXXXX")
SERVER_LOG=$TMP_DIR/server.log
SERVER_PID=

cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -s $SERVER_LOG ]]; then
        printf '\n==> last 200 lines of the server log (%s)\n' "$SERVER_LOG" >&2
        tail -n 200 "$SERVER_LOG" >&2 || true
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

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ADMIN_KEY=$("$PY" -c 'import secrets; print("e2e-admin-" + secrets.token_hex(24))')
BASE_URL=http://127.0.0.1:$PORT

step "starting Conclave.Server on $BASE_URL (data in $TMP_DIR)"
# Started from the project folder, as `dotnet run` would, so its appsettings.json applies.
pushd "$SERVER_PROJECT_DIR" >/dev/null
Conclave__DataDir=$TMP_DIR/data \
    Conclave__Auth__AdminKey=$ADMIN_KEY \
    Conclave__Llm__Builtin__TokenDelayMs=1 \
    dotnet "$ROOT/$SERVER_DLL" --urls "$BASE_URL" >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!
popd >/dev/null

healthy() {
    "$PY" - "$BASE_URL/healthz" <<'EOF' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

deadline=$((SECONDS + 60))
until healthy; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        wait "$SERVER_PID" 2>/dev/null && code=0 || code=$?
        die "the server exited (status $code) before /healthz answered"
    fi
    ((SECONDS < deadline)) || die "GET /healthz did not answer 200 within 60 s"
    sleep 0.5
done
echo "server is up (pid $SERVER_PID)"

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

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "test.sh: the server died during the e2e suite" >&2
    [[ $E2E_STATUS -ne 0 ]] || E2E_STATUS=1
fi
exit "$E2E_STATUS"
