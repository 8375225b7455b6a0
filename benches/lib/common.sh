# shellcheck shell=bash
# Shared by the benchmark scripts (run-serving.sh, run-growth.sh): settings, release build,
# corpus stores cached by content, and starting/stopping servers. Source it after setting
# `set -euo pipefail`; it reads the environment settings its callers document.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$HERE/.." && pwd)
CORPUS=${CORPUS:-$REPO/../shared/data/news-corpus.jsonl.gz}
CACHE=${BENCH_CACHE:-/tmp/communique-bench}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET_DIR/release

log() { printf '== %s\n' "$*" >&2; }
now_ns() { date +%s%N; }
# The number after "key": in a JSON text (flat fields only; no jq needed).
# The first match, read with awk to the end: `head` may close the pipe while sed still writes
# (SIGPIPE under pipefail).
json_number() { sed -n "s/.*\"$1\": *\([0-9.eE+-]*\).*/\1/p" | awk 'NR == 1'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

build_release() {
    log "building release binaries"
    (cd "$REPO" && cargo build --release --quiet \
        -p communique-server -p communique-worker -p communique-bench --bins)
}

# A new results folder under the cache; sets RESULTS and LOGS.
new_results() {
    local stamp
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    RESULTS=$CACHE/results/$stamp
    LOGS=$RESULTS/logs
    mkdir -p "$RESULTS/runs" "$LOGS"
}

# The store of the corpus's first $1 lines ("all" for the whole corpus), built once and kept
# under the cache. The store depends on the annotator, the store code and the corpus, so its
# name hashes them: a change rebuilds it, an unchanged tree reuses it, and stores of older
# trees are removed. Sets STORE_DB, STORE_KEY (the ingest report is
# $CACHE/ingest-$STORE_KEY.json, its wall time in ms $CACHE/ingest-$STORE_KEY.ms).
corpus_store() { # lines|all
    local lines=$1 key suffix=""
    [[ -f "$CORPUS" ]] || { echo "corpus $CORPUS not found (set CORPUS)" >&2; exit 1; }
    key=$( {
        (cd "$REPO" && find worker/src worker/kb services/store/src services/domain/src \
            -type f -print0 | sort -z | xargs -0 sha256sum)
        stat -L -c '%s %Y' "$CORPUS"
    } | sha256sum | cut -c1-12)
    [[ "$lines" == all ]] || suffix=-first$lines
    STORE_KEY=$key$suffix
    STORE_DB=$CACHE/corpus-db-$STORE_KEY
    mkdir -p "$CACHE"
    if [[ -f "$STORE_DB/.complete" ]]; then
        log "reusing the store $STORE_DB"
        return
    fi
    local old
    for old in "$CACHE"/corpus-db-*; do
        if [[ -e "$old" && "${old##*corpus-db-}" != "$key"* ]]; then
            rm -rf "$old" "$CACHE/ingest-${old##*corpus-db-}".*
        fi
    done
    rm -rf "$STORE_DB" "$STORE_DB.tmp"
    mkdir -p "$CACHE/logs"
    log "building the store of $lines corpus lines from $CORPUS"
    local t0 t1 status=0
    t0=$(now_ns)
    if [[ "$lines" == all ]]; then
        "$BIN/communique-worker" ingest --db "$STORE_DB.tmp" --json "$CORPUS" \
            >"$CACHE/ingest-$STORE_KEY.json" 2>"$CACHE/logs/ingest-$STORE_KEY.log" || status=$?
    else
        # awk reads to the end rather than closing the pipe early as `head` would, so gzip ends
        # normally instead of by SIGPIPE (which pipefail would report as a failure).
        gzip -cdf "$CORPUS" | awk -v n="$lines" 'NR <= n' |
            "$BIN/communique-worker" ingest --db "$STORE_DB.tmp" --json --format jsonl - \
                >"$CACHE/ingest-$STORE_KEY.json" 2>"$CACHE/logs/ingest-$STORE_KEY.log" ||
            status=$?
    fi
    t1=$(now_ns)
    # 2: some lines were rejected (reported in the JSON), the rest is stored.
    if [[ $status -ne 0 && $status -ne 2 ]]; then
        echo "ingest failed (exit $status); see $CACHE/logs/ingest-$STORE_KEY.log" >&2
        exit 1
    fi
    echo "$(( (t1 - t0) / 1000000 ))" >"$CACHE/ingest-$STORE_KEY.ms"
    mv "$STORE_DB.tmp" "$STORE_DB"
    touch "$STORE_DB/.complete"
}

# communique-server on store $1 at 127.0.0.1:$2, logging to $3, the seeds from the repo, no
# metrics listener and no concurrency limit; sets SERVER_PID.
# shellcheck disable=SC2034 # SERVER_PID and BASE_PID are read by the calling script.
start_server() { # db port logfile
    COMMUNIQUE__SERVER__LISTEN_ADDRESS=127.0.0.1:$2 \
    COMMUNIQUE__STORE__DATA_DIR=$1 \
    COMMUNIQUE__SEED__PATHS=$REPO/seeds \
    COMMUNIQUE__METRICS__LISTEN_ADDRESS="" \
    COMMUNIQUE__SERVER__LOG_FORMAT=json \
    COMMUNIQUE__SERVER__MAX_CONCURRENT_REQUESTS=1000000 \
    COMMUNIQUE__SERVER__DRAIN_SECONDS=2 \
    RUST_LOG=warn \
        "$BIN/communique-server" >>"$3" 2>&1 &
    SERVER_PID=$!
}

# baseline-server at 127.0.0.1:$1, logging to $2; sets BASE_PID.
# shellcheck disable=SC2034
start_baseline() { # port logfile
    "$BIN/baseline-server" --listen "127.0.0.1:$1" >>"$2" 2>&1 &
    BASE_PID=$!
}

stop() { # pid
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

SERVER_PID=""
BASE_PID=""
# Stops whichever servers are running; scripts also call it on exit (`trap stop_servers EXIT`).
stop_servers() {
    local pid
    for pid in "$SERVER_PID" "$BASE_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            stop "$pid"
        fi
    done
    SERVER_PID=""
    BASE_PID=""
}

# Prints the milliseconds from $2 (ns since the epoch) to SERVING of service $3.
wait_serving() { # url since_ns service
    "$BIN/wait-serving" --target "$1" --since-unix-ns "$2" --service "$3" --timeout 60 --json |
        json_number serving_ms
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_free_ports() { # port...
    local port
    for port in "$@"; do
        if port_busy "$port"; then
            echo "port $port is in use: set PORT / BASE_PORT" >&2
            exit 1
        fi
    done
}
