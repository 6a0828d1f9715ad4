// The composition scenario of `npm run bench` (issue #15): one composite route making three independent
// calls (GetShelf, GetBook, GetStats) against the same three calls made by the client one after another
// (three HTTP requests per unit, each waiting for the one before), measured in the same run. A "unit" is
// what the client wants: the three answers. Reports units/s and p50/p99 of a unit's latency (first byte
// sent to last answer read) for both, and the ratio of units/s.
import { writeFileSync } from "node:fs";
import autocannon from "autocannon";

const COMPOSITE = { method: "GET", path: "/v1/bench/compose/1/2" };
const SEQUENTIAL = [
  { method: "GET", path: "/v1/shelves/1" },
  { method: "GET", path: "/v1/shelves/1/books/2" },
  { method: "POST", path: "/bookstore.v1.BookstoreService/GetStats", body: "{}" },
];

/** Writes the composite route the scenario calls into the gateway's mappings directory `dir`. */
export function writeCompositionMapping(dir) {
  writeFileSync(
    `${dir}/bench-composition.yaml`,
    [
      "compositions:",
      "  - get: /v1/bench/compose/{shelf}/{book}",
      "    calls:",
      "      - { name: shelf, method: bookstore.v1.BookstoreService.GetShelf, request: { shelf_id: path.shelf } }",
      "      - { name: book, method: bookstore.v1.BookstoreService.GetBook, request: { shelf_id: path.shelf, book_id: path.book } }",
      "      - { name: stats, method: bookstore.v1.BookstoreService.GetStats }",
      "    output:",
      "      - { key: shelf, from: shelf }",
      "      - { key: book, from: book }",
      "      - { key: stats, from: stats }",
    ].join("\n"),
  );
}

/**
 * One autocannon run of `steps` (one unit = the steps in order on one connection); every answer must be
 * 200. Returns the units done, the seconds run and each unit's latency in ms.
 */
async function units(url, steps, { duration, connections }) {
  const latencies = [];
  let wrong = 0;
  const last = steps.length - 1;
  const requests = steps.map((s, i) => ({
    method: s.method,
    path: s.path,
    ...(s.body ? { body: s.body } : {}),
    ...(i === 0
      ? {
          setupRequest: (req, context) => {
            context.t0 = performance.now();
            return req;
          },
        }
      : {}),
    onResponse: (status, _body, context) => {
      if (status !== 200) wrong++;
      if (i === last) latencies.push(performance.now() - context.t0);
    },
  }));
  const r = await autocannon({
    url,
    requests,
    headers: { "content-type": "application/json" },
    connections,
    duration,
  });
  if (wrong > 0 || r.errors > 0 || r.timeouts > 0)
    throw new Error(
      `composition bench: ${wrong} answers were not 200, ${r.errors} errors, ${r.timeouts} timeouts`,
    );
  return { units: latencies.length, seconds: r.duration, latencies };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function summary(runs) {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  return {
    unitsPerSec: runs.reduce((s, r) => s + r.units, 0) / seconds,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
  };
}

/**
 * The scenario against the gateway at `url`: a short warm-up of both, then `rounds` rounds alternating
 * which goes first (so that drift on a shared machine hits both alike).
 */
export async function runComposition(url, { duration, connections, rounds = 2 }) {
  const opts = { duration, connections };
  await units(url, [COMPOSITE], { ...opts, duration: 1 });
  await units(url, SEQUENTIAL, { ...opts, duration: 1 });
  const composite = [];
  const sequential = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      composite.push(await units(url, [COMPOSITE], opts));
      sequential.push(await units(url, SEQUENTIAL, opts));
    } else {
      sequential.push(await units(url, SEQUENTIAL, opts));
      composite.push(await units(url, [COMPOSITE], opts));
    }
  }
  const c = summary(composite);
  const s = summary(sequential);
  return { rounds, composite: c, sequential: s, ratio: c.unitsPerSec / s.unitsPerSec };
}

/** The scenario's table (markdown), printed after the main one. */
export function printComposition(result) {
  const ms = (x) => x.toFixed(1);
  console.log(
    `\ncomposition: 3 independent calls (GetShelf, GetBook, GetStats) per unit, ${result.rounds} rounds alternated\n`,
  );
  console.log("| client makes | units/s | p50 ms | p99 ms |");
  console.log("|---|---|---|---|");
  console.log(
    `| one composite request | ${Math.round(result.composite.unitsPerSec)} | ${ms(result.composite.p50)} | ${ms(result.composite.p99)} |`,
  );
  console.log(
    `| three requests one after another | ${Math.round(result.sequential.unitsPerSec)} | ${ms(result.sequential.p50)} | ${ms(result.sequential.p99)} |`,
  );
  console.log(`\ncomposite / sequential units/s: ${result.ratio.toFixed(2)}`);
}
