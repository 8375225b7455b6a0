# shellcheck shell=bash
# Builds, starts, waits for and stops communique-server for the client-facing CI checks, over a
# throwaway store on a free loopback port. Source it from a .ci/ script after
# `set -euo pipefail`:
#
#   . "$(dirname "$0")/lib/server.sh"
#   ci_setup                           # CI_TMP (removed on exit) and the exit trap
#   server_build                       # SERVER_BIN
#   server_start_ready PROBE [ARG...]  # SERVER_ADDR, SERVER_PID; `PROBE ARG... ADDR` succeeds once
#                                      # the server answers Health/Check SERVING (keep it bounded)
#   ...checks (pass / fail from checks.sh)...
#   server_stop_check                  # SIGTERM, bounded wait, a check that it exited 0
#   check_summary                      # `N passed, M failed`; non-zero when something failed
#
# If the script stops early, the exit trap still SIGTERMs the server (and checks its exit
# status), prints the summary line and removes CI_TMP.
#
# Environment: COMMUNIQUE_SERVER_BIN (test this binary and build nothing), SERVER_READY_TIMEOUT
# (seconds to wait for SERVING, default 120), SERVER_STOP_TIMEOUT (seconds to wait for the exit
# after SIGTERM, default 30: the server drains for up to 10 s by default).

CI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=SCRIPTDIR/checks.sh
. "$CI_ROOT/.ci/lib/checks.sh"

SERVER_BIN=""
SERVER_PID=""
SERVER_ADDR=""
SERVER_LOG=""
SERVER_EXIT=""

# server_build: sets SERVER_BIN. Runs `cargo build --release --locked -p communique-server`,
# which only checks freshness (about a second) when target/release is up to date, so a binary
# left over from an older checkout is never what gets tested. COMMUNIQUE_SERVER_BIN skips it.
server_build() {
  if [[ -n ${COMMUNIQUE_SERVER_BIN:-} ]]; then
    SERVER_BIN=$COMMUNIQUE_SERVER_BIN
    echo "== using COMMUNIQUE_SERVER_BIN=$SERVER_BIN (not rebuilt)"
  else
    local target_dir
    echo "== cargo build --release --locked -p communique-server"
    (cd "$CI_ROOT" && cargo build --release --locked -p communique-server)
    target_dir=$(cd "$CI_ROOT" && cargo metadata --format-version 1 --no-deps --locked |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    SERVER_BIN=$target_dir/release/communique-server
  fi
  if [[ ! -x $SERVER_BIN ]]; then
    echo "error: no server binary at $SERVER_BIN" >&2
    return 1
  fi
}

# free_port: prints a TCP port that was free on 127.0.0.1 a moment ago.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# server_start: starts SERVER_BIN in the background over a new empty store (seeded from seeds/
# on start), on a free port, metrics off, with no COMMUNIQUE_* settings from the environment.
server_start() {
  local data
  SERVER_ADDR=127.0.0.1:$(free_port)
  data=$(mktemp -d "$CI_TMP/store.XXXXXX")
  SERVER_LOG=$data.log
  SERVER_EXIT=""
  (
    while read -r name; do
      unset "$name"
    done < <(compgen -e | grep '^COMMUNIQUE_' || true)
    export COMMUNIQUE__SERVER__LISTEN_ADDRESS=$SERVER_ADDR
    export COMMUNIQUE__STORE__DATA_DIR=$data
    export COMMUNIQUE__SEED__PATHS=$CI_ROOT/seeds
    export COMMUNIQUE__METRICS__LISTEN_ADDRESS=""
    export NO_COLOR=1
    cd "$CI_ROOT" || exit 1
    exec "$SERVER_BIN"
  ) </dev/null >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
}

# server_wait_ready PROBE [ARG...]: polls `PROBE ARG... SERVER_ADDR` until it succeeds (0), the
# server exits (2, SERVER_EXIT set) or SERVER_READY_TIMEOUT seconds pass (1).
server_wait_ready() {
  local timeout=${SERVER_READY_TIMEOUT:-120} start=$SECONDS
  while ((SECONDS - start < timeout)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      SERVER_EXIT=0
      wait "$SERVER_PID" || SERVER_EXIT=$?
      SERVER_PID=""
      return 2
    fi
    if "$@" "$SERVER_ADDR" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

# server_log_tail: the end of the server's log, for failure details.
server_log_tail() {
  printf 'server log (%s), last lines:\n' "$SERVER_LOG"
  tail -n 25 "$SERVER_LOG" 2>/dev/null || true
}

# server_start_ready PROBE [ARG...]: server_start then server_wait_ready, recorded as a check.
# Tries another port (up to 3 times) when the one picked was taken in the meantime.
server_start_ready() {
  local attempt status start
  for attempt in 1 2 3; do
    start=$SECONDS
    server_start
    status=0
    server_wait_ready "$@" || status=$?
    case $status in
      0)
        pass "server SERVING at $SERVER_ADDR after $((SECONDS - start)) s (pid $SERVER_PID)"
        return 0
        ;;
      2)
        if ((attempt < 3)) && grep -q 'Address already in use' "$SERVER_LOG"; then
          echo "port of $SERVER_ADDR was taken meanwhile: trying another"
          continue
        fi
        fail "server exited with status $SERVER_EXIT before it was ready" "$(server_log_tail)"
        return 1
        ;;
      *)
        fail "server not SERVING at $SERVER_ADDR within ${SERVER_READY_TIMEOUT:-120} s" \
          "$(server_log_tail)"
        return 1
        ;;
    esac
  done
}

# server_stop_check: SIGTERM, wait up to SERVER_STOP_TIMEOUT seconds (then SIGKILL), and record
# whether the server exited 0 as a check. Returns non-zero when it did not.
server_stop_check() {
  [[ -n $SERVER_PID ]] || return 0
  local pid=$SERVER_PID timeout=${SERVER_STOP_TIMEOUT:-30} start=$SECONDS
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - start >= timeout)); then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      SERVER_EXIT=killed
      fail "server still running ${timeout} s after SIGTERM (killed)" "$(server_log_tail)"
      return 1
    fi
    sleep 0.2
  done
  SERVER_EXIT=0
  wait "$pid" || SERVER_EXIT=$?
  if [[ $SERVER_EXIT == 0 ]]; then
    pass "server exited 0 after SIGTERM ($((SECONDS - start)) s)"
  else
    fail "server exited with status $SERVER_EXIT after SIGTERM" "$(server_log_tail)"
    return 1
  fi
}
