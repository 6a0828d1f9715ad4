#!/usr/bin/env bash
# Concurrent A/B: gateways A and B (and the Go backend) on CPU 0, two wrk on CPU 1 at the same time;
# prints CPU us/request of each and B/A. usage: pair.sh "<A dir> [args]" "<B dir> [args]"  env: ROUTE, DUR, RUNS
set -uo pipefail
read -r adir aargs <<<"$1"; read -r bdir bargs <<<"$2"
DUR=${DUR:-8}; ROUTE=${ROUTE:-GET}; RUNS=${RUNS:-3}
here=${PEER_SRC:-$(cd "$(dirname "$0")/../../../shared/peer-bench" && pwd)}
setsid taskset -c 0 ${PEER_DIR:-/tmp/peer-bench}/echo-gw -mode=loopback -http 127.0.0.1:18290 -grpc 127.0.0.1:19291 >/tmp/pair-go.log 2>&1 & gopid=$!
start() { # dir port args
  (cd "$1" && exec setsid taskset -c 0 node ${NODEFLAGS:-} --max-semi-space-size=32 --single-threaded-gc bin/protogate.js serve --protos "$here/go/src/example.com/echo/proto" --backend 127.0.0.1:19291 --port $2 $3 >/tmp/pair-$2.log 2>&1) & echo $!
}
apid=$(start "$adir" 18291 "$aargs"); bpid=$(start "$bdir" 18292 "$bargs")
for p in 18291 18292; do for i in $(seq 60); do curl -fs http://127.0.0.1:$p/v1/echo/up >/dev/null 2>&1 && break; sleep 0.3; done; done
printf '%s\n' 'wrk.method = "POST"' 'wrk.body = "{\"message\":\"hello\"}"' 'wrk.headers["Content-Type"] = "application/json"' >/tmp/pair-post.lua
url() { [ "$ROUTE" = POST ] && echo "-s /tmp/pair-post.lua http://127.0.0.1:$1/v1/echo" || echo "http://127.0.0.1:$1/v1/echo/hello"; }
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
apid=$(pgrep -f "port 18291" | head -1); bpid=$(pgrep -f "port 18292" | head -1)
taskset -c 1 wrk -t1 -c25 -d3s $(url 18291) >/dev/null & w=$!; taskset -c 1 wrk -t1 -c25 -d3s $(url 18292) >/dev/null; wait $w
for r in $(seq $RUNS); do
  a0=$(ticks $apid); b0=$(ticks $bpid)
  [ -n "${PERF:-}" ] && [ $r = 1 ] && { perf record -e cpu-clock -F 2000 -g -o /tmp/perf-a.data -p $apid -- sleep $((DUR-1)) >/dev/null 2>&1 & perf record -e cpu-clock -F 2000 -g -o /tmp/perf-b.data -p $bpid -- sleep $((DUR-1)) >/dev/null 2>&1 & }
  taskset -c 1 wrk -t1 -c25 -d${DUR}s $(url 18291) >/tmp/pair-wa.txt & w=$!; taskset -c 1 wrk -t1 -c25 -d${DUR}s $(url 18292) >/tmp/pair-wb.txt; wait $w
  a1=$(ticks $apid); b1=$(ticks $bpid)
  na=$(awk '/requests in/{print $1}' /tmp/pair-wa.txt); nb=$(awk '/requests in/{print $1}' /tmp/pair-wb.txt)
  awk -v a=$((a1-a0)) -v b=$((b1-b0)) -v na=$na -v nb=$nb -v r=$r -v route=$ROUTE 'BEGIN{ua=a/100*1e6/na; ub=b/100*1e6/nb; printf "%s run %d: A %.1f us/req (%d req)  B %.1f us/req (%d req)  B/A %.3f\n", route, r, ua, na, ub, nb, ub/ua}'
done
kill -- -$gopid 2>/dev/null; pkill -9 -f "port 1829[12]"; sleep 0.5
