import { executionAsyncResource } from "node:async_hooks";

let kept: Promise<object> | undefined;

/**
 * Keeps one of Node's `process.nextTick` queue entries alive for the life of the process. Why: each
 * request runs five to ten nextTicks inside Node's http and stream code, and each builds an object
 * literal with two symbol keys. On Node 20 (V8 11.3) runs of the same build fell, at random, into a
 * state where every one of those keys was defined through V8's runtime
 * (`Runtime_DefineKeyedOwnPropertyInLiteral`, 20-38k instructions per request, 15-25% of it; a 4-5x
 * larger nextTick in CPU profiles). That define site goes megamorphic for good as soon as it sees a
 * second map for the new object. Our reading is that the literal's map is held weakly by V8's
 * literal-map cache and made anew after a GC that finds no object using it. One object kept alive
 * keeps its map chain too. Measured (bench/README.md, "Node 20's slow nextTick"): without this, 6 of
 * 9 runs of three configurations were in that state; with it, 0 of 8. Idempotent; resolves to the
 * entry kept (an object with `callback` and `args`).
 */
export function keepTickShape(): Promise<object> {
  kept ??= new Promise((resolve) => {
    // inside a nextTick callback, the current resource is that tick's own queue entry
    process.nextTick(() => resolve(executionAsyncResource()));
  });
  return kept;
}
