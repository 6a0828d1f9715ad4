// A small, honest timing loop: warm up, then time batches until a minimum duration, several rounds
// interleaved across contenders (so CPU steal hits all alike), report the median in microseconds per op.
import { cpus } from "node:os";

/** @param {() => unknown} fn @param {number} ms */
function timeFor(fn, ms) {
  let ops = 0;
  let batch = 1;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    batch = Math.min(batch * 2, 4096);
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / 1000 / ops;
}

/**
 * @param {Record<string, () => unknown>} contenders name -> operation
 * @param {{ rounds?: number, ms?: number }} [opts]
 * @returns {Record<string, number>} name -> median us/op
 */
export function compare(contenders, { rounds = 5, ms = 250 } = {}) {
  const names = Object.keys(contenders);
  for (const n of names) timeFor(contenders[n], ms); // warm-up: let the JIT settle
  /** @type {Record<string, number[]>} */
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) for (const n of names) samples[n].push(timeFor(contenders[n], ms));
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function machine() {
  return { node: process.version, cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length };
}
