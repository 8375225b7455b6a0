#!/usr/bin/env bash
# The proto contract's checks with buf, by proto/buf.yaml's rules: `buf lint` (STANDARD) in
# proto/, and `buf breaking` (FILE) of proto/ against the previous commit's proto/, run from the
# repository root. The breaking check is skipped, saying why, when there is no previous commit
# (first commit, shallow clone) or it has no proto/buf.yaml. BUF_AGAINST_REF compares against
# another commit instead (for example the merge base of a branch with several commits).
# Installs buf (npm: @bufbuild/buf, into a throwaway prefix) when it is missing.
# Prints one line per check and ends with `N passed, M failed`; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=SCRIPTDIR/lib/checks.sh
. .ci/lib/checks.sh
ci_setup

if buf --version >/dev/null 2>&1; then
  BUF=$(command -v buf)
else
  echo "== installing buf (npm: @bufbuild/buf) into a throwaway prefix"
  npm install --silent --no-audit --no-fund --prefix "$CI_TMP/npm" @bufbuild/buf >/dev/null
  BUF=$CI_TMP/npm/node_modules/.bin/buf
fi
echo "== buf $("$BUF" --version 2>&1)"

echo "== buf lint (proto/)"
if out=$(cd proto && "$BUF" lint 2>&1); then
  pass "buf lint: proto/ follows the STANDARD rules"
else
  fail "buf lint" "$out"
fi

against=${BUF_AGAINST_REF:-HEAD~1}
echo "== buf breaking (proto/ against $against)"
if ! commit=$(git rev-parse --verify --quiet "$against^{commit}"); then
  skip "buf breaking: no commit $against here (the first commit, or a shallow clone)"
elif ! git cat-file -e "$commit:proto/buf.yaml" 2>/dev/null; then
  skip "buf breaking: $against (${commit:0:12}) has no proto/buf.yaml, so no contract to keep"
elif out=$("$BUF" breaking proto --against ".git#ref=$commit,subdir=proto" 2>&1); then
  pass "buf breaking: proto/ keeps the FILE rules against $against (${commit:0:12})"
else
  fail "buf breaking against $against (${commit:0:12})" "$out"
fi

check_summary
