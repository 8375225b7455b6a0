#!/usr/bin/env bash
# The growth benchmark: does the latency of CompareStances and SearchEntities follow the size of
# the answer rather than the size of the corpus? Builds (or reuses) stores of the corpus's first
# 1,000 and 10,000 lines and of all of it, serves each in turn, and measures through gRPC with
# loadgen, beside a bare tonic hello server measured right before and after each store (so the
# machine's drift between stores cancels out):
#
#   - each RPC with a fixed page (PAGE_SIZE, default 2): the same answer shape on every store,
#     so its latency should not grow with the corpus (verdict FLAT when the largest store's
#     p50 / hello p50 is within 1.5x the smallest store's);
#   - each RPC with the server's default page: the answer itself grows with the corpus (more
#     governments and evidence to show), for information.
#
# Settings (environment): CORPUS, BENCH_CACHE (as run-serving.sh), SIZES (corpus lines per store,
# default "1000 10000 all"), QUERY (default Iran), PAGE_SIZE (default 2), DURATION (measured
# seconds per run, default 4), WARMUP (default 1), HIGH (in flight for RPS, default 64), PORT,
# BASE_PORT (loopback ports, default 50161 and 50162).
set -euo pipefail

SIZES=${SIZES:-1000 10000 all}
read -ra SIZE_LIST <<<"$SIZES"
QUERY=${QUERY:-Iran}
PAGE_SIZE=${PAGE_SIZE:-2}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
HIGH=${HIGH:-64}
PORT=${PORT:-50161}
BASE_PORT=${BASE_PORT:-50162}
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

build_release
new_results

trap stop_servers EXIT
require_free_ports "$PORT" "$BASE_PORT"

declare -A DBS
for size in "${SIZE_LIST[@]}"; do
    corpus_store "$size"
    DBS[$size]=$STORE_DB
done

t0=$(now_ns); start_baseline "$BASE_PORT" "$LOGS/baseline.log"
wait_serving "http://127.0.0.1:$BASE_PORT" "$t0" bench.v1.BaselineService >/dev/null

load() { # url rpc in_flight out [extra loadgen args...]
    local url=$1 rpc=$2 m=$3 out=$4
    shift 4
    "$BIN/loadgen" --target "$url" --rpc "$rpc" -c 1 -m "$m" --duration "$DURATION" \
        --warmup "$WARMUP" --decode size --output "$out" --json "$@" >/dev/null
}

RUNS=$RESULTS/runs
for size in "${SIZE_LIST[@]}"; do
    db=${DBS[$size]}
    log "store of $size lines: $db"
    load "http://127.0.0.1:$BASE_PORT" hello 1 "$RUNS/$size-hello-before-m1.json"
    t0=$(now_ns); start_server "$db" "$PORT" "$LOGS/server-$size.log"
    wait_serving "http://127.0.0.1:$PORT" "$t0" communique.v1.ArticleService >/dev/null
    for rpc in compare-stances search-entities; do
        load "http://127.0.0.1:$PORT" "$rpc" 1 "$RUNS/$size-$rpc-page$PAGE_SIZE-m1.json" \
            --query "$QUERY" --page-size "$PAGE_SIZE"
        load "http://127.0.0.1:$PORT" "$rpc" "$HIGH" "$RUNS/$size-$rpc-page$PAGE_SIZE-m$HIGH.json" \
            --query "$QUERY" --page-size "$PAGE_SIZE"
        load "http://127.0.0.1:$PORT" "$rpc" 1 "$RUNS/$size-$rpc-default-m1.json" --query "$QUERY"
    done
    stop "$SERVER_PID"; SERVER_PID=""
    load "http://127.0.0.1:$BASE_PORT" hello 1 "$RUNS/$size-hello-after-m1.json"
done

# --- report ----------------------------------------------------------------------------------
field() { json_number "$2" <"$1"; } # file key
p50() { sed -n '/"latency"/,/}/p' "$1" | json_number p50_us; }
p99() { sed -n '/"latency"/,/}/p' "$1" | json_number p99_us; }
hello_p50() { # size: mean of the hello runs bracketing the store
    awk -v a="$(p50 "$RUNS/$1-hello-before-m1.json")" -v b="$(p50 "$RUNS/$1-hello-after-m1.json")" \
        'BEGIN {printf "%.1f", (a + b) / 2}'
}
articles_of() { # size
    local key=${DBS[$1]##*corpus-db-}
    json_number ingested <"$CACHE/ingest-$key.json"
}

FIRST=${SIZE_LIST[0]}
LAST=${SIZE_LIST[-1]}
{
    echo "# communique growth benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
    echo
    echo "Query $QUERY; loadgen 1 connection, --decode size, ${DURATION} s after ${WARMUP} s warm-up."
    echo "\"p50 / hello\": p50 at 1 in flight over the hello server's p50 measured around the same store."
    echo
    echo "| RPC, page | store (lines) | articles | bytes on disk per article | answer bytes | p50 @1 µs | p99 @1 µs | p50 / hello | RPS @$HIGH |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for rpc in compare-stances search-entities; do
        for page in "page$PAGE_SIZE" default; do
            for size in "${SIZE_LIST[@]}"; do
                low=$RUNS/$size-$rpc-$page-m1.json
                high=$RUNS/$size-$rpc-$page-m$HIGH.json
                articles=$(articles_of "$size")
                disk=$(du -sb "${DBS[$size]}" | cut -f1)
                rps="-"
                [[ -f "$high" ]] && rps=$(awk -v r="$(field "$high" rps)" 'BEGIN {printf "%.0f", r}')
                awk -v rpc="$rpc" -v page="$page" -v size="$size" -v articles="$articles" \
                    -v disk="$disk" -v bytes="$(field "$low" response_bytes_mean)" \
                    -v p50="$(p50 "$low")" -v p99="$(p99 "$low")" -v hello="$(hello_p50 "$size")" \
                    -v rps="$rps" -v errors="$(field "$low" errors)" 'BEGIN {
                        printf "| %s, %s | %s | %d | %d | %.0f | %.1f | %.1f | %.2f | %s |%s\n",
                            rpc, page, size, articles, disk / articles, bytes, p50, p99,
                            p50 / hello, rps, (errors > 0 ? " errors: " errors : "")
                    }'
            done
        done
    done
    echo
    for rpc in compare-stances search-entities; do
        first=$RUNS/$FIRST-$rpc-page$PAGE_SIZE-m1.json
        last=$RUNS/$LAST-$rpc-page$PAGE_SIZE-m1.json
        awk -v rpc="$rpc" -v page="$PAGE_SIZE" -v first="$FIRST" -v last="$LAST" \
            -v a="$(p50 "$first")" -v ha="$(hello_p50 "$FIRST")" \
            -v b="$(p50 "$last")" -v hb="$(hello_p50 "$LAST")" \
            -v ba="$(field "$first" response_bytes_mean)" -v bb="$(field "$last" response_bytes_mean)" 'BEGIN {
                ratio = (b / hb) / (a / ha)
                printf "%s, page %s: p50 / hello, store of %s lines over store of %s lines: %.2f (<= 1.5: %s); answer bytes %.0f -> %.0f\n",
                    rpc, page, last, first, ratio, (ratio <= 1.5 ? "FLAT" : "GROWS"), ba, bb
            }'
    done
    echo
    echo "results: $RESULTS"
} | tee "$RESULTS/report.md"
