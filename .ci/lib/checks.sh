# shellcheck shell=bash
# What the client-facing CI scripts share besides the server: one line per check, a closing
# `N passed, M failed` line, a temporary directory and an exit trap. Source it (lib/server.sh
# does) after `set -euo pipefail`, then call ci_setup.

CHECKS_PASSED=0
CHECKS_FAILED=0
CHECKS_SUMMARY_PRINTED=0
CI_TMP=""

# pass NAME: records and prints a passed check.
pass() {
  CHECKS_PASSED=$((CHECKS_PASSED + 1))
  printf 'ok   %s\n' "$1"
}

# fail NAME [DETAIL...]: records and prints a failed check, with details indented below it.
fail() {
  CHECKS_FAILED=$((CHECKS_FAILED + 1))
  printf 'FAIL %s\n' "$1"
  shift
  local detail
  for detail in "$@"; do
    printf '%s\n' "$detail" | head -c 4000 | sed 's/^/       /'
  done
}

# skip NAME: prints a check that could not run here (not counted).
skip() {
  printf 'skip %s\n' "$1"
}

# check_summary: prints the closing line once; returns 1 when a check failed.
check_summary() {
  if [[ $CHECKS_SUMMARY_PRINTED == 0 ]]; then
    CHECKS_SUMMARY_PRINTED=1
    printf '%d passed, %d failed\n' "$CHECKS_PASSED" "$CHECKS_FAILED"
  fi
  [[ $CHECKS_FAILED == 0 ]]
}

# ci_setup: makes CI_TMP (removed on exit) and installs the exit and signal traps.
ci_setup() {
  CI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/communique-ci.XXXXXX")
  trap ci_on_exit EXIT
  # A signal ends the script through the exit trap too (PIPE: `... | head` stopped reading).
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM
}

# The exit trap: stops a server still running (lib/server.sh), prints the closing line if the
# script stopped before it did, removes CI_TMP, and exits non-zero when anything failed.
ci_on_exit() {
  local rc=$?
  set +e
  # Finish the clean-up whatever happens meanwhile (stdout closed, a second Ctrl-C).
  trap '' HUP INT PIPE TERM
  if declare -F server_stop_check >/dev/null; then
    server_stop_check
  fi
  if [[ $CHECKS_SUMMARY_PRINTED == 0 ]]; then
    if [[ $rc != 0 && $CHECKS_FAILED == 0 ]]; then
      fail "script stopped early (exit status $rc)"
    fi
    check_summary
  fi
  if [[ $CHECKS_FAILED != 0 && $rc == 0 ]]; then
    rc=1
  fi
  [[ -z $CI_TMP ]] || rm -rf "$CI_TMP"
  exit "$rc"
}
