#!/usr/bin/env bash
# The serving benchmark. Builds release, builds (or reuses) a store holding the full corpus,
# starts communique-server on it and the bare tonic baseline-server side by side, measures
# startup to SERVING, store size per article, and loadgen runs of each RPC against its baseline
# in the same script run, then prints the ratios with PASS/MISS per target:
#
#   RPS at 64 in flight:  candidate / baseline >= 0.5
#   p50 at 1 in flight:   candidate / baseline <= 2
#   p99 at 1 in flight:   candidate / baseline <= 3
#   startup to SERVING on the full-corpus store < 2 s
#
# The machine is shared and noisy: only the ratios mean anything from one run to the next.
#
# Settings (environment):
#   CORPUS          the corpus (default: ../shared/data/news-corpus.jsonl.gz beside the repo)
#   BENCH_CACHE     cache folder for the store and results (default: /tmp/communique-bench)
#   BENCH_DB        use this store instead of building one (no process may hold it)
#   DURATION        measured seconds per run (default 5); WARMUP seconds before it (default 1)
#   HIGH            requests in flight for throughput (default 64)
#   PORT, BASE_PORT loopback ports of communique-server and baseline-server (50151, 50152)
#   STARTUP_RUNS    startups measured (default 3)
#   CLIENT_THREADS  loadgen runtime threads (default 1: the other core serves)
#   QUERY           SearchEntities query and CompareStances target (default Iran)
#   DECODE          what loadgen does with each response in the measured runs: size (default:
#                   take its size, skip its bytes, so the client's core is not spent decoding
#                   900 strings of a stance page) or typed (decode into the generated types);
#                   the other mode is run once more for CompareStances, as an information row
#   PERF_RPC        also profile the server with perf during this loadgen RPC at HIGH in
#                   flight (e.g. get-article-full); the report goes to the results folder
set -euo pipefail

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
HIGH=${HIGH:-64}
PORT=${PORT:-50151}
BASE_PORT=${BASE_PORT:-50152}
STARTUP_RUNS=${STARTUP_RUNS:-3}
CLIENT_THREADS=${CLIENT_THREADS:-1}
QUERY=${QUERY:-Iran}
PERF_RPC=${PERF_RPC:-}
DECODE=${DECODE:-size}
case "$DECODE" in
size) OTHER_DECODE=typed ;;
typed) OTHER_DECODE=size ;;
*) echo "DECODE must be size or typed, not '$DECODE'" >&2; exit 2 ;;
esac
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

build_release
new_results

# --- the full-corpus store -------------------------------------------------------------------
KEY=""
if [[ -n "${BENCH_DB:-}" ]]; then
    DB=$BENCH_DB
    [[ -d "$DB" ]] || { echo "BENCH_DB $DB is not a folder" >&2; exit 1; }
else
    corpus_store all
    DB=$STORE_DB
    KEY=$STORE_KEY
fi

# --- servers ---------------------------------------------------------------------------------
trap stop_servers EXIT
require_free_ports "$PORT" "$BASE_PORT"

log "measuring startup to SERVING ($STARTUP_RUNS runs each)"
startup_server=()
startup_base=()
for _ in $(seq "$STARTUP_RUNS"); do
    t0=$(now_ns); start_server "$DB" "$PORT" "$LOGS/server.log"
    startup_server+=("$(wait_serving "http://127.0.0.1:$PORT" "$t0" communique.v1.ArticleService)")
    stop "$SERVER_PID"; SERVER_PID=""
    t0=$(now_ns); start_baseline "$BASE_PORT" "$LOGS/baseline.log"
    startup_base+=("$(wait_serving "http://127.0.0.1:$BASE_PORT" "$t0" bench.v1.BaselineService)")
    stop "$BASE_PID"; BASE_PID=""
done
STARTUP_MS=$(median "${startup_server[@]}")
STARTUP_BASE_MS=$(median "${startup_base[@]}")

t0=$(now_ns); start_server "$DB" "$PORT" "$LOGS/server.log"
wait_serving "http://127.0.0.1:$PORT" "$t0" communique.v1.ArticleService >/dev/null
t0=$(now_ns); start_baseline "$BASE_PORT" "$LOGS/baseline.log"
wait_serving "http://127.0.0.1:$BASE_PORT" "$t0" bench.v1.BaselineService >/dev/null

# --- load ------------------------------------------------------------------------------------
SEQ=0
header_printed=""
load() { # url rpc in_flight label [extra loadgen args...]
    local url=$1 rpc=$2 m=$3 label=$4
    shift 4
    SEQ=$((SEQ + 1))
    local out
    out=$(printf '%s/runs/%02d-%s-m%s.json' "$RESULTS" "$SEQ" "$label" "$m")
    local table
    table=$("$BIN/loadgen" --target "$url" --rpc "$rpc" -c 1 -m "$m" \
        --duration "$DURATION" --warmup "$WARMUP" --client-threads "$CLIENT_THREADS" \
        --decode "${LOAD_DECODE:-$DECODE}" --label "$label" --output "$out" "$@")
    if [[ -z "$header_printed" ]]; then
        # Not `| head -n 1`: head may exit before printf's last write, and SIGPIPE under
        # pipefail ended the whole run.
        printf '%s\n' "${table%%$'\n'*}"
        header_printed=1
    fi
    printf '%s\n' "$table" | tail -n +2
    LAST=$out
}

COMMUNIQUE=http://127.0.0.1:$PORT
BASELINE=http://127.0.0.1:$BASE_PORT
log "load: ${DURATION}s measured after ${WARMUP}s warm-up per run, 1 connection, responses: $DECODE"
# hello runs between the candidates: the report divides each candidate run by the hello runs
# nearest before and after it, since the machine's load drifts during the script.
hello_pair() {
    load "$BASELINE" hello "$HIGH" hello
    load "$BASELINE" hello 1 hello
}
hello_pair
load "$COMMUNIQUE" get-article-basic "$HIGH" get-article-basic
load "$COMMUNIQUE" get-article-basic 1 get-article-basic
hello_pair
load "$COMMUNIQUE" search-entities "$HIGH" search-entities --query "$QUERY"
load "$COMMUNIQUE" search-entities 1 search-entities --query "$QUERY"
hello_pair
load "$COMMUNIQUE" compare-stances "$HIGH" compare-stances --query "$QUERY"
COMPARE_BYTES=$(json_number response_bytes_mean <"$LAST" | awk '{printf "%d", $1}')
load "$COMMUNIQUE" compare-stances 1 compare-stances --query "$QUERY"
hello_pair
load "$COMMUNIQUE" get-article-full "$HIGH" get-article-full
FULL_BYTES=$(json_number response_bytes_mean <"$LAST" | awk '{printf "%d", $1}')
load "$COMMUNIQUE" get-article-full 1 get-article-full
for m in "$HIGH" 1; do
    load "$BASELINE" echo-payload "$m" echo-payload --payload-bytes "$FULL_BYTES"
done
# Not a target: how much of CompareStances' gap to hello is the size of its answer alone.
for m in "$HIGH" 1; do
    load "$BASELINE" echo-payload "$m" echo-compare-size --payload-bytes "$COMPARE_BYTES"
done
# Not a target: CompareStances with the client decoding the other way (by default, into the
# generated types, as an application would), to show what the decode mode changes.
for m in "$HIGH" 1; do
    LOAD_DECODE=$OTHER_DECODE load "$COMMUNIQUE" compare-stances "$m" \
        "compare-stances-$OTHER_DECODE" --query "$QUERY"
done
hello_pair

PEAK_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo "?")

if [[ -n "$PERF_RPC" ]]; then
    if command -v perf >/dev/null; then
        log "profiling communique-server under $PERF_RPC at $HIGH in flight"
        perf record -F 999 -g -p "$SERVER_PID" -o "$RESULTS/perf.data" \
            -- sleep "$(awk "BEGIN {print $DURATION + $WARMUP}")" 2>"$LOGS/perf.log" &
        perf_pid=$!
        "$BIN/loadgen" --target "$COMMUNIQUE" --rpc "$PERF_RPC" -c 1 -m "$HIGH" \
            --duration "$DURATION" --warmup "$WARMUP" --client-threads "$CLIENT_THREADS" \
            --query "$QUERY" --label "perf-$PERF_RPC" >/dev/null
        wait "$perf_pid" || true
        perf report -i "$RESULTS/perf.data" --stdio --no-children --percent-limit 1 \
            >"$RESULTS/perf-$PERF_RPC.txt" 2>/dev/null || true
        log "perf report: $RESULTS/perf-$PERF_RPC.txt"
    else
        log "perf is not installed: PERF_RPC ignored"
    fi
fi

# --- report ----------------------------------------------------------------------------------
echo
echo "# communique serving benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m)"
echo
"$BIN/bench-report" --dir "$RESULTS/runs" --high "$HIGH" --low 1 \
    --row "GetArticle BASIC=get-article-basic:hello" \
    --row "SearchEntities $QUERY=search-entities:hello" \
    --row "CompareStances $QUERY=compare-stances:hello" \
    --row "GetArticle FULL=get-article-full:echo-payload" \
    --row "CompareStances $QUERY, info: against a reply of its size=compare-stances:echo-compare-size" \
    --row "CompareStances $QUERY, info: client decoding $OTHER_DECODE=compare-stances-$OTHER_DECODE:hello" | tee "$RESULTS/report.md"

STORE_BYTES=$(du -sb "$DB" | cut -f1)
STORE_ALLOC_KB=$(du -sk "$DB" | cut -f1)
ARTICLES=""
TEXT_BYTES=""
INGEST_MS=""
if [[ -n "$KEY" && -f "$CACHE/ingest-$KEY.json" ]]; then
    ARTICLES=$(json_number ingested <"$CACHE/ingest-$KEY.json")
    TEXT_BYTES=$(json_number bytes <"$CACHE/ingest-$KEY.json")
    INGEST_MS=$(cat "$CACHE/ingest-$KEY.ms" 2>/dev/null || true)
fi
{
    echo
    startup_verdict=$(awk "BEGIN {print ($STARTUP_MS < 2000) ? \"PASS\" : \"MISS\"}")
    echo "startup to SERVING (full-corpus store, warm page cache, median of $STARTUP_RUNS):" \
        "${STARTUP_MS} ms (< 2000 ms: $startup_verdict);" \
        "baseline-server ${STARTUP_BASE_MS} ms;" \
        "ratio $(awk "BEGIN {printf \"%.1f\", $STARTUP_MS / $STARTUP_BASE_MS}")"
    echo "  all runs: communique ${startup_server[*]} ms; baseline ${startup_base[*]} ms"
    if [[ -n "$ARTICLES" && "$ARTICLES" -gt 0 ]]; then
        echo "store: $STORE_BYTES bytes ($STORE_ALLOC_KB KiB allocated) for $ARTICLES articles:" \
            "$(( STORE_BYTES / ARTICLES )) bytes per article;" \
            "article text $(( TEXT_BYTES / ARTICLES )) bytes per article;" \
            "ratio store / text $(awk "BEGIN {printf \"%.1f\", $STORE_BYTES / $TEXT_BYTES}")"
        echo "ingest of the corpus (when the store was built): ${INGEST_MS} ms," \
            "$(awk "BEGIN {printf \"%.0f\", $ARTICLES / ($INGEST_MS / 1000)}") articles/s," \
            "$(awk "BEGIN {printf \"%.2f\", $TEXT_BYTES / 1e6 / ($INGEST_MS / 1000)}") MB/s of text"
    else
        echo "store: $STORE_BYTES bytes ($STORE_ALLOC_KB KiB allocated) at $DB"
    fi
    echo "communique-server peak RSS (under the load above): ${PEAK_RSS_KB} KiB"
    echo "echo-payload reply size = mean GetArticle FULL response: $FULL_BYTES bytes"
    echo "echo-compare-size reply size = mean CompareStances response: $COMPARE_BYTES bytes"
    echo "results: $RESULTS"
} | tee -a "$RESULTS/report.md"

# Where the store's bytes are: needs the store free, so after the servers stop.
stop_servers
echo
"$BIN/store-breakdown" --db "$DB" | tee -a "$RESULTS/report.md"
