#!/usr/bin/env bash
# Generates the Python client (messages and gRPC stubs) from proto/ into OUT_DIR, as the README
# tells client authors to: grpc_tools.protoc over proto/communique/v1/*.proto and nothing else.
# The output is a build product: put it in a temporary directory, never commit it.
#
# Usage: generate.sh OUT_DIR   (PYTHON, default python3, must have grpcio-tools: see
# requirements.txt; python-client-check.sh installs it into a throwaway venv)
set -euo pipefail
if [[ $# != 1 ]]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import grpc_tools.protoc' 2>/dev/null; then
  echo "error: $PYTHON has no grpcio-tools:" \
    "$PYTHON -m pip install -r .ci/python-client/requirements.txt" >&2
  exit 1
fi
"$PYTHON" -m grpc_tools.protoc -I proto --python_out="$out" --grpc_python_out="$out" \
  proto/communique/v1/*.proto
echo "generated $(find "$out/communique" -name '*.py' | wc -l) modules into $out/communique/v1"
