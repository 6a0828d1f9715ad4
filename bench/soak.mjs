// `npm run bench:soak`: steady load on one route for SOAK seconds (default 300), sampling the gateway's
// RSS every 15 s: a gateway that leaks shows a rising line. Prints the samples and writes a JSON result.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { gatewayNodeFlags, rssMiB, start } from "./lib/servers.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const SOAK = Number(process.env.SOAK ?? 300);
const backend = await start([`${root}bench/lib/backend.mjs`], /backend listening on (\S+)/, { cpu: 0 });
const gateway = await start(
  [
    ...gatewayNodeFlags(root),
    `${root}bin/protogate.js`,
    "serve",
    "--protos",
    `${root}protos`,
    "--backend",
    backend.match[1],
    "--port",
    "0",
    "--log-level",
    "warn",
    "--no-watch",
  ],
  /listening on (http:\/\/\S+)/,
  { cpu: 0 },
);
const samples = [{ t: 0, rssMiB: rssMiB(gateway.pid) }];
const timer = setInterval(
  () => samples.push({ t: Math.round((Date.now() - started) / 1000), rssMiB: rssMiB(gateway.pid) }),
  15_000,
);
const started = Date.now();
const r = await autocannon({
  url: `${gateway.match[1]}/v1/shelves/1/books?pageSize=2`,
  connections: 50,
  duration: SOAK,
});
clearInterval(timer);
samples.push({ t: SOAK, rssMiB: rssMiB(gateway.pid) });
await Promise.all([gateway.stop(), backend.stop()]);
console.log(
  `soak: ${SOAK}s, ${Math.round(r.requests.average)} req/s average, ${r.non2xx} non-2xx, ${r.errors} errors`,
);
console.log("t(s)  RSS MiB");
for (const s of samples) console.log(`${String(s.t).padStart(4)}  ${s.rssMiB}`);
const file = `${root}bench/results/soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(
  file,
  JSON.stringify(
    { seconds: SOAK, requestsPerSecond: r.requests.average, non2xx: r.non2xx, errors: r.errors, samples },
    null,
    2,
  ),
);
console.log(`results: ${file}`);
process.exit(0);
