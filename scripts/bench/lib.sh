# Shared by the benchmark scripts (sourced; they set BIN, LOAD, BASE, PORT, CONNECTIONS,
# DURATION and a scratch directory in $work, and track the server's pid in $server).

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$work/$1.json"; } # label, numeric field
quiet() { "$@" 2>"$work/cli.log" || { cat "$work/cli.log" >&2; return 1; }; } # CLI logs on failure only
warm_up() { # keys file, loadgen args...: one request per host, unmeasured
    "$LOAD" --connections "$CONNECTIONS" --duration 600 --requests "$(wc -l <"$1")" "${@:2}" >/dev/null
}
ratio() { # label, numerator, denominator
    awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN { printf "{\"label\":\"%s\",\"ratio\":%.3f}\n", l, (b > 0 ? a / b : 0) }'
}

start_server() { # store flags...
    "$BIN" serve --bind "127.0.0.1:$PORT" --auth-mode on --log-level warn "$@" 2>"$work/server.log" &
    server=$!
    for _ in $(seq 1 200); do
        "$BIN" healthcheck --url "$BASE" --timeout 1 >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1
}

stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

measure() { # label, pid to sample, loadgen args...: one JSON line with the server's peak RSS
    local label=$1 pid=$2; shift 2
    local peak=0
    "$LOAD" --connections "$CONNECTIONS" --duration "$DURATION" --label "$label" "$@" >"$work/$label.json" &
    local load=$!
    while kill -0 "$load" 2>/dev/null; do
        local r; r=$(rss_kb "$pid"); [ "$r" -gt "$peak" ] && peak=$r
        sleep 0.2
    done
    wait "$load"
    sed -i "s/}\$/,\"server_rss_peak_mb\":$((peak / 1024))}/" "$work/$label.json"
    cat "$work/$label.json"
}
