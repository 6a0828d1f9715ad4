#!/usr/bin/env bash
# Instructions per request of a protogate build under callgrind: deterministic where the machine's CPU
# time is not (the same build and config reads within about 2% run to run, whatever else the machine does).
# The gateway runs under valgrind with instrumentation off while it starts and warms up (WARM requests),
# on only for N measured requests, against the Go Echo backend of ../shared/peer-bench.
# usage: bench/instructions/count.sh <name> "<checkout> [protogate args]"
# env: ROUTE (GET|POST, default POST), N (4000), WARM (15000), PORT (18681), PEER_DIR (/tmp/peer-bench),
#   NODE_FLAGS (more node flags: --perf-basic-prof lets jit-names.mjs name the JS functions of the profile),
#   SERVER=static (measure the static Fastify route of `npm run bench` instead of a gateway: the floor;
#   with STATIC_HEADERS=cache-hit it also sends the headers a cache hit adds)
# Prints the main thread's instructions per request, in all and without V8's garbage collector (a major
# GC in the window adds tens of thousands to one run), then all threads' (V8's compiler threads too: a
# gateway still compiling shows up there).
set -uo pipefail
name=$1; read -r dir args <<<"$2"
ROUTE=${ROUTE:-POST}; N=${N:-4000}; WARM=${WARM:-15000}; P=${PORT:-18681}; G=$((P + 1000))
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../../shared/peer-bench/go/src/example.com/echo/proto" && pwd)
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 2; }
out=/tmp/protogate-instr-$name
rm -f "$out".*
"${PEER_DIR:-/tmp/peer-bench}/echo-gw" -mode=loopback -http 127.0.0.1:$((P + 2000)) -grpc 127.0.0.1:$G >/dev/null 2>&1 & backend=$!
# shellcheck disable=SC2086
if [ "${SERVER:-}" = static ]; then
  (cd "$dir" && PORT=$P exec valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$out.cg" \
    node --max-semi-space-size=32 --single-threaded-gc ${NODE_FLAGS:-} bench/lib/static-server.mjs >"$out.log" 2>&1) &
else
  (cd "$dir" && exec valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$out.cg" \
    node --max-semi-space-size=32 --single-threaded-gc ${NODE_FLAGS:-} bin/protogate.js serve --protos "$protos" \
    --backend 127.0.0.1:$G --port $P $args >"$out.log" 2>&1) &
fi
for _ in $(seq 300); do curl -fs http://127.0.0.1:$P/v1/echo/up >/dev/null 2>&1 && break; sleep 1; done
vg=$(pgrep -f "valgrind.*callgrind-out-file=$out.cg" | head -1)
# one load process: the measured requests reuse the warm-up's connections (load.mjs)
node "$here/load.mjs" $P "$ROUTE" "$N" 4 "$WARM" "callgrind_control -i {} $vg" >/dev/null
callgrind_control -d "$vg" >/dev/null 2>&1
sleep 1
kill -INT "$vg"; sleep 3; kill -9 "$vg" 2>/dev/null; kill "$backend"
threads=$(cat "$out".cg.1-* | grep "^totals:" | awk '{s += $2} END {print s}')
echo "$name, instructions/request on the main thread: $(node "$here/summary.mjs" "$out.cg.1-01" "$N"); $((threads / N)) in all threads ($out.cg.1-01)"
