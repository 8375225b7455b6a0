#!/usr/bin/env bash
# Renders the kustomize base and every overlay, validates the output offline against the
# Kubernetes OpenAPI schemas (kubernetes-validate ships them; strict mode rejects unknown
# fields), then checks the invariants the manifests' comments promise. Fails on any error.
#
#   bash deploy/check.sh
#
# Needs kubectl (for `kubectl kustomize`) and python3; kubernetes-validate is installed with
# pip when missing (into a virtualenv under ~/.cache if the system Python refuses). No cluster
# and no network beyond that one install.
set -euo pipefail
cd "$(dirname "$0")"

# Pinned so that the schemas, hence the verdict, do not change under CI.
KV_PACKAGE="kubernetes-validate==1.37.0"
# The oldest Kubernetes these manifests target (backoffLimitPerIndex, podFailurePolicy, native
# gRPC probes, CronJob timeZone) and, below, the newest the installed package knows.
MIN_KUBE_VERSION="1.30"
TARGETS=(base overlays/dev overlays/prod)

die() { echo "check.sh: $*" >&2; exit 1; }

command -v kubectl >/dev/null || die "kubectl is required (kubectl kustomize renders the manifests)"
command -v python3 >/dev/null || die "python3 is required (kubernetes-validate)"

# A Python interpreter that can import kubernetes_validate.
find_python() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/communique/deploy-check-venv"
  if python3 -c 'import kubernetes_validate' 2>/dev/null; then
    echo python3; return
  fi
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import kubernetes_validate' 2>/dev/null; then
    echo "$venv/bin/python"; return
  fi
  echo "== installing $KV_PACKAGE" >&2
  if python3 -m pip install --quiet --disable-pip-version-check "$KV_PACKAGE" >&2 \
      && python3 -c 'import kubernetes_validate' 2>/dev/null; then
    echo python3; return
  fi
  # An externally managed system Python (PEP 668), or a user site not on sys.path.
  echo "== pip into the system Python failed; using a virtualenv at $venv" >&2
  python3 -m venv "$venv" >&2 || die "cannot create a virtualenv (install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$KV_PACKAGE" >&2 \
    || die "cannot install $KV_PACKAGE"
  echo "$venv/bin/python"
}
PY="$(find_python)"

# Kubernetes versions to validate against: the oldest targeted and the newest shipped.
read -r -a KUBE_VERSIONS < <("$PY" - "$MIN_KUBE_VERSION" <<'EOF'
import os, re, sys
import kubernetes_validate
schemas = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
found = sorted({tuple(map(int, m.groups())) for d in os.listdir(schemas)
                if (m := re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", d))})
minimum = tuple(map(int, sys.argv[1].split(".")))
if minimum not in found:
    sys.exit(f"kubernetes-validate has no schemas for {sys.argv[1]}; it has "
             + ", ".join(f"{a}.{b}" for a, b in found))
newest = found[-1]
print(" ".join(sorted({sys.argv[1], f"{newest[0]}.{newest[1]}"})))
EOF
)
[ "${#KUBE_VERSIONS[@]}" -gt 0 ] || die "no Kubernetes version to validate against"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

for target in "${TARGETS[@]}"; do
  file="$OUT/$(echo "$target" | tr / -).yaml"
  echo "== kubectl kustomize deploy/$target"
  kubectl kustomize "$target" > "$file"
  for version in "${KUBE_VERSIONS[@]}"; do
    echo "== kubernetes-validate --strict -k $version deploy/$target"
    "$PY" -m kubernetes_validate --strict --quiet -k "$version" "$file"
  done
done

echo "== invariants"
"$PY" - "$OUT"/*.yaml <<'EOF'
"""What schemas cannot see: the promises the manifests' comments make."""
import re
import sys

import yaml

UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
errors = []


def memory_bytes(quantity):
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti)?", str(quantity))
    if not match:
        raise ValueError(f"unexpected memory quantity {quantity!r}")
    return int(match.group(1)) * UNITS.get(match.group(2), 1)


def toml_int(text, key):
    match = re.search(rf"^\s*{key}\s*=\s*(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else None


for path in sys.argv[1:]:
    name = path.rsplit("/", 1)[-1].removesuffix(".yaml")
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)

    def fail(message):
        errors.append(f"{name}: {message}")

    # prod references pre-existing Secrets; only dev may generate placeholders.
    if name.endswith("prod") and by_kind.get("Secret"):
        fail("renders a Secret; prod must reference Secrets created out of band")

    configs = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}
    for sts in by_kind.get("StatefulSet", []):
        spec = sts["spec"]
        pod = spec["template"]["spec"]
        if spec.get("replicas") != 1:
            fail("the server StatefulSet must have exactly 1 replica (sled has one writer)")
        config_name = next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)
        toml = configs[config_name]["data"]["server.toml"]
        if re.search(r"-----BEGIN|^\s*tokens?\s*=", toml, re.MULTILINE):
            fail("server.toml holds a token or key material; mount them from Secrets")
        drain = toml_int(toml, "drain_seconds")
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if drain is None or grace < drain + 15:
            fail(f"terminationGracePeriodSeconds {grace} must exceed drain_seconds {drain} "
                 "by at least 15 s (store flush)")
        server = next(c for c in pod["containers"] if c["name"] == "server")
        limit = memory_bytes(server["resources"]["limits"]["memory"])
        cache = toml_int(toml, "cache_capacity_mb")
        if cache is None or cache * 2**20 > limit // 2:
            fail(f"cache_capacity_mb {cache} must stay at or below half the memory limit")

    for job in by_kind.get("Job", []):
        spec = job["spec"]
        if spec.get("completionMode") != "Indexed":
            continue
        for container in spec["template"]["spec"]["containers"]:
            counts = [a.split("=", 1)[1] for a in container.get("args", [])
                      if a.startswith("--shard-count=")]
            if counts != [str(spec["completions"])]:
                fail(f"job {job['metadata']['name']}: --shard-count {counts} "
                     f"!= completions {spec['completions']}")

if errors:
    sys.exit("\n".join(errors))
print(f"ok: {len(sys.argv) - 1} renderings")
EOF

# No Docker engine in CI, so at least check that the image's build context (an allow-list) still
# holds every workspace member: a new crate outside it would break only the image build.
echo "== build context covers the workspace"
"$PY" - Dockerfile.dockerignore ../Cargo.toml <<'EOF'
import re
import sys

ignore, manifest = (open(p).read() for p in sys.argv[1:])
allowed = {line[1:].strip().rstrip("/") for line in ignore.splitlines() if line.startswith("!")}
block = re.search(r"^members\s*=\s*\[(.*?)\]", manifest, re.MULTILINE | re.DOTALL)
members = re.findall(r'"([^"]+)"', block.group(1)) if block else []
missing = [m for m in members if m.split("/")[0] not in allowed]
if not members or missing or not {"Cargo.toml", "Cargo.lock", "seeds"} <= allowed:
    sys.exit(f"deploy/Dockerfile.dockerignore leaves out {missing or 'Cargo.*/seeds'}")
print(f"ok: {len(members)} members")
EOF

echo "deploy/check.sh: all renderings valid (Kubernetes ${KUBE_VERSIONS[*]})"
