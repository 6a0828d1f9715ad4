#!/usr/bin/env bash
# Concurrent: grpc-gateway (its own process with its backend) vs protogate + its Go backend, all on CPU 0,
# two wrk on CPU 1 at once. CPU per request of each side; ratio gw/protogate (>1: protogate cheaper).
# usage: gwpair.sh "<dir> [args]"   env ROUTE RUNS DUR
set -uo pipefail
read -r pdir pargs <<<"$1"
DUR=${DUR:-8}; ROUTE=${ROUTE:-GET}; RUNS=${RUNS:-3}
here=${PEER_SRC:-$(cd "$(dirname "$0")/../../../shared/peer-bench" && pwd)}
setsid taskset -c 0 ${PEER_DIR:-/tmp/peer-bench}/echo-gw -mode=loopback -http 127.0.0.1:18380 -grpc 127.0.0.1:19380 >/dev/null 2>&1 & g1=$!
setsid taskset -c 0 ${PEER_DIR:-/tmp/peer-bench}/echo-gw -mode=loopback -http 127.0.0.1:18382 -grpc 127.0.0.1:19381 >/dev/null 2>&1 & g2=$!
(cd "$pdir" && exec setsid taskset -c 0 node --max-semi-space-size=32 --single-threaded-gc bin/protogate.js serve --protos "$here/go/src/example.com/echo/proto" --backend 127.0.0.1:19381 --port 18381 $pargs >/tmp/gwpair-pg.log 2>&1) &
for p in 18380 18381; do for i in $(seq 60); do curl -fs http://127.0.0.1:$p/v1/echo/up >/dev/null 2>&1 && break; sleep 0.3; done; done
ppid=$(pgrep -f "port 18381" | head -1)
printf '%s\n' 'wrk.method = "POST"' 'wrk.body = "{\"message\":\"hello\"}"' 'wrk.headers["Content-Type"] = "application/json"' >/tmp/gwpair-post.lua
url() { [ "$ROUTE" = POST ] && echo "-s /tmp/gwpair-post.lua http://127.0.0.1:$1/v1/echo" || echo "http://127.0.0.1:$1/v1/echo/hello"; }
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
taskset -c 1 wrk -t1 -c25 -d3s $(url 18380) >/dev/null & w=$!; taskset -c 1 wrk -t1 -c25 -d3s $(url 18381) >/dev/null; wait $w
for r in $(seq $RUNS); do
  a0=$(ticks $g1); p0=$(ticks $ppid); b0=$(ticks $g2)
  taskset -c 1 wrk -t1 -c25 -d${DUR}s $(url 18380) >/tmp/gwpair-wa.txt & w=$!; taskset -c 1 wrk -t1 -c25 -d${DUR}s $(url 18381) >/tmp/gwpair-wb.txt; wait $w
  a1=$(ticks $g1); p1=$(ticks $ppid); b1=$(ticks $g2)
  na=$(awk '/requests in/{print $1}' /tmp/gwpair-wa.txt); nb=$(awk '/requests in/{print $1}' /tmp/gwpair-wb.txt)
  awk -v a=$((a1-a0)) -v p=$((p1-p0)) -v b=$((b1-b0)) -v na=$na -v nb=$nb -v r=$r -v route=$ROUTE 'BEGIN{ug=a/100*1e6/na; up=p/100*1e6/nb; ub=b/100*1e6/nb; printf "%s run %d: grpc-gateway %.1f us/req | protogate %.1f + its backend %.1f = %.1f us/req | gw/(pg+backend) %.3f\n", route, r, ug, up, ub, up+ub, ug/(up+ub)}'
done
kill -- -$g1 -$g2 2>/dev/null; pkill -9 -f "port 18381"; sleep 0.5
