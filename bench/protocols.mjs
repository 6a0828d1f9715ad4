// `npm run bench:protocols`: what the front end's protocol and compression cost, one protogate build in
// front of the Go gRPC Echo backend of ../shared/peer-bench (build it once with its build.sh), the same
// GET /v1/echo/{message} route in every variant, alternated round after round in one run:
//   HTTP/1.1          the default listener
//   h2c               server.http2: h2c (cleartext HTTP/2)
//   HTTP/1.1 + TLS    server.tls (a self-signed certificate made here), the client offering http/1.1
//   HTTP/2 + TLS      server.tls + server.http2: true, the client offering h2 by ALPN
//   2 KB, identity    HTTP/1.1, compression on, a 2 KB answer, the client sending no Accept-Encoding
//   2 KB, gzip / br   the same with Accept-Encoding: gzip, then br
// The load generator is h2load (nghttp2-client) for all, so that every variant has the same client; 50
// connections, one request in flight on each (HTTP/2 multiplexing would measure the client, not us).
// Servers on CPU 0, h2load on CPU 1. Reports req/s per round, the medians, the gateway's CPU per request
// (/proc stat) and the bytes per answer on the wire.
// env: DUR (seconds per round, 5), ROUNDS (3), CONN (50), PEER_DIR (/tmp/peer-bench)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { machine } from "./lib/measure.mjs";
import { gatewayNodeFlags, pinned } from "./lib/servers.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const DUR = Number(process.env.DUR ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONN = Number(process.env.CONN ?? 50);
const PEER_DIR = process.env.PEER_DIR ?? "/tmp/peer-bench";
const ECHO = `${PEER_DIR}/echo-gw`;
const ECHO_PROTOS = fileURLToPath(
  new URL("../../shared/peer-bench/go/src/example.com/echo/proto", import.meta.url),
);

for (const [what, ok, how] of [
  ["the Go Echo backend", existsSync(ECHO), "../shared/peer-bench/build.sh"],
  ["h2load", spawnSync("h2load", ["--version"]).status === 0, "apt-get install nghttp2-client"],
  ["openssl", spawnSync("openssl", ["version"]).status === 0, "apt-get install openssl"],
])
  if (!ok) {
    console.error(`bench:protocols needs ${what}: ${how}`);
    process.exit(2);
  }

const work = `${root}bench/results/tmp-protocols-${process.pid}`;
mkdirSync(work, { recursive: true });
spawnSync(
  "openssl",
  [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    `${work}/tls.key`,
    "-out",
    `${work}/tls.crt`,
  ],
  { stdio: "ignore" },
);

const taskset = (cpu, cmd, args) => (pinned ? ["taskset", ["-c", String(cpu), cmd, ...args]] : [cmd, args]);

/** Starts a process on CPU 0; resolves once `ready` matches its output. */
function launch(cmd, args, ready) {
  const [c, a] = taskset(0, cmd, args);
  const child = spawn(c, a, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      out += chunk;
      const m = ready.exec(out);
      if (!m) return;
      child.stdout.off("data", onData);
      child.stdout.resume();
      child.stderr.resume();
      resolve({
        match: m,
        pid: child.pid,
        stop: () => new Promise((r) => child.once("exit", r).kill("SIGTERM")),
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${cmd} exited (${code}):\n${out}`)));
  });
}

const backend = await launch(
  ECHO,
  ["-mode=loopback", "-http", "127.0.0.1:19390", "-grpc", "127.0.0.1:19391"],
  /grpc on /,
);
const GATEWAYS = {
  plain: [],
  h2c: ["  http2: h2c"],
  tls: [
    `  tls: { cert: ${JSON.stringify(`${work}/tls.crt`)}, key: ${JSON.stringify(`${work}/tls.key`)} }`,
    "  http2: true",
  ],
  compress: ["  compression: true"],
};
async function gateway(name) {
  const file = `${work}/${name}.yaml`;
  writeFileSync(
    file,
    [
      "server:",
      "  port: 0",
      ...GATEWAYS[name],
      `protos: [${JSON.stringify(ECHO_PROTOS)}]`,
      'backends: { default: "127.0.0.1:19391" }',
    ].join("\n"),
  );
  const args = [
    ...gatewayNodeFlags(root),
    `${root}bin/protogate.js`,
    "serve",
    "--config",
    file,
    "--no-watch",
  ];
  const g = await launch(process.execPath, args, /listening on (https?:\/\/\S+)/);
  return { ...g, url: g.match[1] };
}
const gateways = {};
for (const n of Object.keys(GATEWAYS)) gateways[n] = await gateway(n);

const SMALL = "/v1/echo/hello";
// a 2 KB answer of words, compressible about as much as typical JSON
const words = "order item price quantity customer address shipping status created updated".split(" ");
const big = Array.from({ length: 260 }, (_, i) => words[(i * 7) % words.length])
  .join("-")
  .slice(0, 2000);
const BIG = `/v1/echo/${big}`;
const VARIANTS = {
  "HTTP/1.1": { gw: "plain", path: SMALL, h2load: ["--h1"] },
  h2c: { gw: "h2c", path: SMALL, h2load: [] },
  "HTTP/1.1 + TLS": { gw: "tls", path: SMALL, h2load: ["--h1"] },
  "HTTP/2 + TLS": { gw: "tls", path: SMALL, h2load: [] },
  "2 KB, identity": { gw: "compress", path: BIG, h2load: ["--h1"] },
  "2 KB, gzip": { gw: "compress", path: BIG, h2load: ["--h1", "-H", "accept-encoding: gzip"] },
  "2 KB, br": { gw: "compress", path: BIG, h2load: ["--h1", "-H", "accept-encoding: br"] },
};

/** user+system CPU time of a process, seconds. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function h2load(args) {
  const [c, a] = taskset(1, "h2load", args);
  const r = spawnSync(c, a, { encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`;
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1]);
  const [, , done, ok, failed, errored] =
    /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
      out,
    ) ?? [];
  const [, , s3, s4, s5] = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out) ?? [];
  const traffic = /traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers .*?, .*?\((\d+)\) data/.exec(out);
  const mean = /time for request: +\S+ +\S+ +(\S+)/.exec(out)?.[1];
  // (h2load's 2xx count may differ from `succeeded` by the requests in flight when warm-up ended)
  if (!rps || Number(failed) + Number(errored) + Number(s3) + Number(s4) + Number(s5) > 0 || !Number(ok))
    throw new Error(`h2load ${args.join(" ")}: not every answer was a 2xx:\n${out}`);
  return { rps, done: Number(done), bytes: traffic ? Number(traffic[1]) / Number(done) : 0, mean };
}

async function round(name) {
  const v = VARIANTS[name];
  const gw = gateways[v.gw];
  const before = cpuSeconds(gw.pid);
  const r = h2load([
    ...v.h2load,
    "-c",
    String(CONN),
    "-m",
    "1",
    "-D",
    String(DUR),
    "--warm-up-time",
    "1",
    `${gw.url}${v.path}`,
  ]);
  const cpu = cpuSeconds(gw.pid) - before;
  return { ...r, usPerRequest: (cpu * 1e6) / r.done };
}

const names = Object.keys(VARIANTS);
const results = Object.fromEntries(names.map((n) => [n, []]));
try {
  for (const n of names) await round(n); // warm-up
  for (let i = 0; i < ROUNDS; i++) for (const n of names) results[n].push(await round(n));
} finally {
  await Promise.all([...Object.values(gateways).map((g) => g.stop()), backend.stop()]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = machine();
console.log(
  `\nprotocols and compression, GET /v1/echo/{message}: ${ROUNDS} alternated rounds of ${DUR}s, ${CONN} connections (h2load, 1 request in flight each); ${m.cpu}, ${m.cores} cores, node ${m.node}${pinned ? ", gateway and backend on CPU 0, h2load on CPU 1" : ""}\n`,
);
console.log(
  "| variant | req/s per round | median req/s | vs HTTP/1.1 | median us CPU/request | bytes/answer | mean latency |",
);
console.log("|---|---|---|---|---|---|---|");
const base = median(results["HTTP/1.1"].map((r) => r.rps));
for (const n of names) {
  const rs = results[n];
  const rps = rs.map((r) => r.rps);
  console.log(
    `| ${n} | ${rps.map((x) => Math.round(x)).join(" / ")} | ${Math.round(median(rps))} | ${(median(rps) / base).toFixed(2)} | ${median(rs.map((r) => r.usPerRequest)).toFixed(1)} | ${Math.round(median(rs.map((r) => r.bytes)))} | ${rs[rs.length - 1].mean} |`,
  );
}
process.exit(0);
