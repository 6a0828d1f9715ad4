// `npm run build && node bench/observability.mjs`: the cost of observability on the unary path. Three
// gateways over the same bundled bookstore backend, alternated A/B/C round after round in one run:
//   off      metrics, access log and tracing off
//   metrics  metrics on, access log off
//   default  metrics on, access log on at info (the lines go to a pipe that is drained)
//   tracing  default + OpenTelemetry traces at 100% sampling, exported over OTLP/HTTP to a sink here
// Reports req/s per round and the medians, with CPU per request of the gateway process (/proc stat).
// env: DUR (seconds per round, default 5), ROUNDS (default 3), CONN (default 50)
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { machine } from "./lib/measure.mjs";
import { gatewayNodeFlags, pinned, start } from "./lib/servers.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));
const DUR = Number(process.env.DUR ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONN = Number(process.env.CONN ?? 50);
const PATH = "/v1/shelves/1/books/2";

// an OTLP sink: accepts the exporter's posts and counts them
let exports = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    exports++;
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});
await new Promise((r) => sink.listen(0, "127.0.0.1", r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/v1/traces`;

const backend = await start([`${here}lib/backend.mjs`], /backend listening on (\S+)/, { cpu: 0 });
const work = `${root}bench/results/tmp-obs-${process.pid}`;
mkdirSync(work, { recursive: true });
const VARIANTS = {
  off: ["logLevel: info", "metrics: { enabled: false }", "accessLog: { enabled: false }"],
  metrics: ["logLevel: info", "accessLog: { enabled: false }"],
  default: ["logLevel: info"],
  tracing: [
    "logLevel: info",
    `tracing: { enabled: true, sampleRatio: 1, endpoint: ${JSON.stringify(sinkUrl)} }`,
  ],
};

/** Starts one gateway variant; its stdout (the access log) is drained, not kept. */
function gateway(name) {
  const file = `${work}/${name}.yaml`;
  writeFileSync(
    file,
    [
      "server: { port: 0 }",
      `protos: [${JSON.stringify(`${root}protos`)}]`,
      `backends: { default: ${JSON.stringify(backend.match[1])} }`,
      ...VARIANTS[name],
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
  const child = spawn(
    pinned ? "taskset" : process.execPath,
    pinned ? ["-c", "0", process.execPath, ...args] : args,
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.stdout.off("data", onData);
      child.stdout.resume(); // drain: an operator's log shipper reads the pipe
      resolve({
        url: m[1],
        pid: child.pid,
        stop: () => new Promise((r) => child.once("exit", r).kill("SIGTERM")),
      });
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}):\n${out}`)));
  });
}

/** user+system CPU time of a process, seconds. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function round(gw) {
  const before = cpuSeconds(gw.pid);
  const r = await autocannon({ url: gw.url + PATH, connections: CONN, duration: DUR });
  if (r.non2xx) throw new Error(`${r.non2xx} answers were not 2xx`);
  const cpu = cpuSeconds(gw.pid) - before;
  return { rps: r.requests.average, p99: r.latency.p99, usPerRequest: (cpu * 1e6) / r.requests.total };
}

const names = Object.keys(VARIANTS);
const gateways = {};
for (const n of names) gateways[n] = await gateway(n);
const results = Object.fromEntries(names.map((n) => [n, []]));
try {
  for (const n of names) await round(gateways[n]); // warm-up
  for (let i = 0; i < ROUNDS; i++) for (const n of names) results[n].push(await round(gateways[n]));
} finally {
  await Promise.all([...Object.values(gateways).map((g) => g.stop()), backend.stop()]);
  sink.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = machine();
console.log(
  `\nobservability cost, GET ${PATH}: ${ROUNDS} alternated rounds of ${DUR}s, ${CONN} connections; ${m.cpu}, ${m.cores} cores, node ${m.node}${pinned ? ", gateways and backend on CPU 0" : ""}; ${exports} OTLP exports\n`,
);
console.log("| variant | req/s per round | median req/s | vs off | median us CPU/request | median p99 ms |");
console.log("|---|---|---|---|---|---|");
const base = median(results.off.map((r) => r.rps));
for (const n of names) {
  const rps = results[n].map((r) => r.rps);
  console.log(
    `| ${n} | ${rps.map((x) => Math.round(x)).join(" / ")} | ${Math.round(median(rps))} | ${(median(rps) / base).toFixed(3)} | ${median(results[n].map((r) => r.usPerRequest)).toFixed(1)} | ${median(results[n].map((r) => r.p99))} |`,
  );
}
process.exit(0);
