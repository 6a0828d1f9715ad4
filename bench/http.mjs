// `npm run bench`: protogate in front of the bundled bookstore gRPC service, scenario by scenario, each
// beside a static Fastify route measured in the same run (the upper bound of any Node gateway here).
// Reports req/s, p50/p99 latency and the gateway's RSS, as ratios to the baseline; then the composition
// scenario (lib/composition.mjs: a 3-call composite against the three calls made one after another).
// A cache-hit scenario runs on a second gateway that caches GetBook (the others stay uncached), set
// against the static route and against a static route that also writes a hit's four headers.
// Writes a JSON result.
// env: DUR (seconds per scenario, default 5), CONN (connections, default 50)
import { mkdirSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { printComposition, runComposition, writeCompositionMapping } from "./lib/composition.mjs";
import { machine } from "./lib/measure.mjs";
import { gatewayNodeFlags, pinned, rssMiB, start } from "./lib/servers.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));
const DUR = Number(process.env.DUR ?? 5);
const CONN = Number(process.env.CONN ?? 50);

const reachable = (port) =>
  new Promise((resolve) => {
    const s = new Socket();
    s.once("error", () => resolve(false)).connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
  });

// --- servers ---
const backend = await start([`${here}lib/backend.mjs`], /backend listening on (\S+)/, { cpu: 0 });
const staticServer = await start([`${here}lib/static-server.mjs`], /static listening on (\S+)/, { cpu: 0 });
// The cache hit's second baseline: the static route that also writes the four headers a hit adds.
const staticHitHeaders = await start([`${here}lib/static-server.mjs`], /static listening on (\S+)/, {
  cpu: 0,
  env: { STATIC_HEADERS: "cache-hit" },
});
const keys = await generateKeyPair("ES256");
const rabbit = await reachable(5672);
const work = `${root}bench/results/tmp-${process.pid}`;
mkdirSync(`${work}/mappings`, { recursive: true });
writeFileSync(
  `${work}/protogate.yaml`,
  [
    "server: { port: 0 }",
    `protos: [${JSON.stringify(`${root}protos`)}]`,
    "mappings: mappings",
    `backends: { default: ${JSON.stringify(backend.match[1])} }`,
    "logLevel: warn",
    "auth:",
    `  providers: [{ issuer: "https://bench", keys: [{ pem: ${JSON.stringify(await exportSPKI(keys.publicKey))} }], algorithms: [ES256] }]`,
    "rateLimit: { store: memory }",
    ...(rabbit ? ['amqp: { brokers: { default: "amqp://guest:guest@127.0.0.1:5672" } }'] : []),
  ].join("\n"),
);
writeFileSync(
  `${work}/mappings/bench.yaml`,
  [
    "methods:",
    "  bookstore.v1.BookstoreService.ListShelves:",
    "    auth: authenticated",
    "    rateLimit: [{ name: bench, key: [subject], rate: 100000000, per: 1s }]",
    // its own exchange: the example's (bookstore.commands) has a durable queue the bench must not fill
    "amqp:",
    "  bindings:",
    '    - { selector: bookstore.v1.BookstoreService.ImportBooks, exchange: protogate.bench, routingKey: "import" }',
  ].join("\n"),
);
writeCompositionMapping(`${work}/mappings`); // the composition scenario's route (lib/composition.mjs)
const gateway = await start(
  [
    ...gatewayNodeFlags(root),
    `${root}bin/protogate.js`,
    "serve",
    "--config",
    `${work}/protogate.yaml`,
    "--no-watch",
  ],
  /listening on (http:\/\/\S+)/,
  {
    cpu: 0,
  },
);
const token = await new SignJWT({ sub: "bench" })
  .setProtectedHeader({ alg: "ES256" })
  .setIssuer("https://bench")
  .setExpirationTime("1h")
  .sign(keys.privateKey);
let benchQueue;
if (rabbit) {
  // a queue for the commands, so that they are routed (else: 503 unroutable); deleted at the end
  const amqp = await import("amqplib");
  const conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672");
  const ch = await conn.createChannel();
  await ch.assertExchange("protogate.bench", "topic", { durable: true });
  const q = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(q.queue, "protogate.bench", "#");
  benchQueue = { conn };
}

const SCENARIOS = [
  { name: "GET path mapping", method: "GET", path: "/v1/shelves/1/books/2" },
  { name: "GET path + query", method: "GET", path: "/v1/shelves/1/books?pageSize=2&genre=GENRE_FICTION" },
  { name: "POST JSON body", method: "POST", path: "/bookstore.v1.BookstoreService/GetStats", body: "{}" },
  { name: "error path (404)", method: "GET", path: "/v1/shelves/999", expect: 404 },
  {
    name: "JWT + rate limit",
    method: "GET",
    path: "/v1/shelves",
    headers: { authorization: `Bearer ${token}` },
  },
  ...(rabbit
    ? [
        {
          name: "AMQP command (202)",
          method: "POST",
          path: "/v1/shelves/1/books:import",
          body: '{"books":[{"title":"x"}]}',
          expect: 202,
        },
      ]
    : []),
];

// --- cache hit (issue #16): a second gateway, the same config but caching GetBook, so that every
// other scenario stays uncached. Its scenario asks for the answer of "GET path mapping" (the same JSON
// as the static route), primed, checked to be a hit and warmed up before the load.
const cacheWork = `${work}/cache`;
mkdirSync(`${cacheWork}/mappings`, { recursive: true });
writeFileSync(
  `${cacheWork}/protogate.yaml`,
  [
    "server: { port: 0 }",
    `protos: [${JSON.stringify(`${root}protos`)}]`,
    "mappings: mappings",
    `backends: { default: ${JSON.stringify(backend.match[1])} }`,
    "logLevel: warn",
  ].join("\n"),
);
writeFileSync(
  `${cacheWork}/mappings/cache.yaml`,
  ["methods:", "  bookstore.v1.BookstoreService.GetBook:", "    cache: { ttl: 1h }"].join("\n"),
);
const cacheGateway = await start(
  [
    ...gatewayNodeFlags(root),
    `${root}bin/protogate.js`,
    "serve",
    "--config",
    `${cacheWork}/protogate.yaml`,
    "--no-watch",
  ],
  /listening on (http:\/\/\S+)/,
  { cpu: 0 },
);
SCENARIOS.push({
  name: "cache hit (GET path mapping)",
  method: "GET",
  path: "/v1/shelves/1/books/2",
  gateway: cacheGateway,
  sameHeaders: staticHitHeaders, // also set against a static route writing the same headers
  async before(url) {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url + this.path);
      await res.arrayBuffer();
      if (i === 1 && !/; hit;/.test(res.headers.get("cache-status") ?? ""))
        throw new Error(`cache hit scenario: not a hit: ${res.headers.get("cache-status")}`);
    }
    await load(url, this); // its warm-up, as the main gateway has one
  },
});

async function load(url, s) {
  const r = await autocannon({
    url: url + s.path,
    method: s.method,
    body: s.body,
    headers: { "content-type": "application/json", ...s.headers },
    connections: CONN,
    duration: DUR,
  });
  const ok = s.expect ?? 200;
  const wrong = Object.entries(r.statusCodeStats ?? {}).filter(([code]) => Number(code) !== ok);
  if (r.non2xx && ok < 300 && ok >= 200)
    throw new Error(`${s.name}: ${r.non2xx} answers were not ${ok}: ${JSON.stringify(wrong)}`);
  if (wrong.length > 0) throw new Error(`${s.name}: unexpected answers ${JSON.stringify(wrong)}`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

const results = [];
let composition;
try {
  // warm-up, then each scenario beside the baseline
  await load(gateway.match[1], SCENARIOS[0]);
  for (const s of SCENARIOS) {
    const target = s.gateway ?? gateway; // a scenario may bring its own gateway (the cache hit)
    await s.before?.(target.match[1]);
    const base = await load(staticServer.match[1], { ...s, expect: 200 });
    const gw = await load(target.match[1], s);
    const same = s.sameHeaders && (await load(s.sameHeaders.match[1], { ...s, expect: 200 }));
    results.push({
      scenario: s.name,
      gateway: gw,
      baseline: base,
      ratio: gw.rps / base.rps,
      ...(same && { sameHeadersBaseline: same, sameHeadersRatio: gw.rps / same.rps }),
      rssMiB: rssMiB(target.pid),
    });
  }
  composition = await runComposition(gateway.match[1], { duration: DUR, connections: CONN });
} finally {
  await cacheGateway.stop();
  await benchQueue?.conn.close();
  await Promise.all([gateway.stop(), staticServer.stop(), staticHitHeaders.stop(), backend.stop()]);
}

const m = machine();
console.log(
  `\nprotogate load benchmark: ${DUR}s per run, ${CONN} connections, autocannon; ${m.cpu}, ${m.cores} cores, node ${m.node}${pinned ? ", servers on CPU 0, load on CPU 1" : ""}\n`,
);
console.log(
  "| scenario | protogate req/s | p50 ms | p99 ms | static Fastify req/s | ratio | gateway RSS MiB |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.scenario} | ${Math.round(r.gateway.rps)} | ${r.gateway.p50} | ${r.gateway.p99} | ${Math.round(r.baseline.rps)} | ${r.ratio.toFixed(3)} | ${r.rssMiB ?? "?"} |`,
  );
}
printComposition(composition);
const hit = results.find((r) => r.scenario.startsWith("cache hit"));
const uncached = results.find((r) => r.scenario === "GET path mapping");
if (hit && uncached)
  console.log(
    `\ncache hit / static: ${hit.ratio.toFixed(3)} of the req/s; / static with a hit's headers (${Math.round(hit.sameHeadersBaseline.rps)} req/s): ${hit.sameHeadersRatio.toFixed(3)}; cache hit / uncached GET: ${(hit.gateway.rps / uncached.gateway.rps).toFixed(2)}x`,
  );
const file = `${root}bench/results/http-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(
  file,
  JSON.stringify({ machine: m, duration: DUR, connections: CONN, results, composition }, null, 2),
);
console.log(`\nresults: ${file}`);
process.exit(0);
