#!/usr/bin/env bash
# Client-facing check with a Python client generated from proto/, as a client author would make
# it: installs grpcio, grpcio-tools, protobuf, googleapis-common-protos and grpcio-health-checking
# from PyPI into a throwaway venv, generates the stubs into a temporary directory
# (python-client/generate.sh), starts the release server over a throwaway seeded store on a free
# loopback port, runs python-client/test_client.py (plain unittest: every public service, real
# answers, NOT_FOUND and INVALID_ARGUMENT with their google.rpc details), and stops the server
# with SIGTERM (exit 0). Ends with `N passed, M failed`; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=SCRIPTDIR/lib/server.sh
. .ci/lib/server.sh
ci_setup

VENV=$CI_TMP/venv
GENERATED=$CI_TMP/generated
CLIENT_DIR=$CI_ROOT/.ci/python-client

echo "== installing the Python gRPC toolchain into a throwaway venv"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$CLIENT_DIR/requirements.txt"
"$VENV/bin/python" -c 'from importlib.metadata import version
names = [line.strip() for line in open(0) if line.strip() and not line.startswith("#")]
print("==", ", ".join(f"{name} {version(name)}" for name in names))' <"$CLIENT_DIR/requirements.txt"

echo "== generating the Python client from proto/"
if PYTHON=$VENV/bin/python "$CLIENT_DIR/generate.sh" "$GENERATED"; then
  pass "Python client generated from proto/communique/v1/*.proto"
else
  fail "Python client generation (grpc_tools.protoc)"
  check_summary || exit 1
fi
export PYTHONPATH=$GENERATED

server_build
echo "== starting the server"
server_start_ready "$VENV/bin/python" "$CLIENT_DIR/test_client.py" --health-check

echo "== test_client.py against $SERVER_ADDR"
counts=$CI_TMP/counts.json
status=0
COMMUNIQUE_ADDRESS=$SERVER_ADDR "$VENV/bin/python" "$CLIENT_DIR/test_client.py" \
  --counts-file "$counts" || status=$?
if [[ -s $counts ]]; then
  read -r passed failed < <(python3 -c \
    'import json, sys; c = json.load(open(sys.argv[1])); print(c["passed"], c["failed"])' "$counts")
  CHECKS_PASSED=$((CHECKS_PASSED + passed))
  CHECKS_FAILED=$((CHECKS_FAILED + failed))
  if [[ $status != 0 && $failed == 0 ]]; then
    fail "test_client.py exited $status"
  fi
else
  fail "test_client.py exited $status without counts"
fi

echo "== stopping the server"
server_stop_check || true
check_summary
