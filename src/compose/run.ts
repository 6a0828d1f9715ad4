import type { IncomingHttpHeaders } from "node:http";
import { encodeMessage, type FieldValue, type JsonReadOptions, type Msg } from "../codec/index.js";
import { Code } from "../errors/code.js";
import { GatewayError, invalidArgument } from "../errors/gateway-error.js";
import { type Cancel, ENCODED_OFFSET, type UpstreamCall } from "../upstream/call.js";
import { Metadata } from "../upstream/call-metadata.js";
import { buildPartRequest, type RequestInputs, readSource, resultMessage } from "./inputs.js";
import type { Composition, PlannedCall } from "./plan.js";

/** What every part call of one request shares: the caller and the overall deadline. */
export interface RunContext {
  readonly inputs: RequestInputs;
  readonly metadata: Metadata;
  /** Overall time budget, ms; 0 for none. */
  readonly timeoutMs: number;
  readonly requestId: string;
  readonly principal: string | undefined;
  readonly claims: Readonly<Record<string, string>>;
  /** The client's HTTP headers: every part call carries them (the cache's privacy rules read them). */
  readonly headers: IncomingHttpHeaders;
  readonly read: JsonReadOptions;
}

/** How a composition ended: every call's result or error, by call index (a failed required call ends it early). */
export interface RunOutcome {
  readonly results: ReadonlyArray<Msg | Msg[] | undefined>;
  readonly errors: ReadonlyArray<GatewayError | undefined>;
}

/**
 * Runs a composition's calls: each starts as soon as the calls it reads have ended (independent calls
 * in parallel), forEach calls fan out with their concurrency cap and keep results in input order, and
 * each call's deadline is min(its own timeout, time left of the overall one). A required call that
 * fails (or cannot run because a call it reads failed) ends the run with its error and cancels the
 * calls in flight. `done` is called exactly once, never synchronously. Returns a cancel for the client
 * going away.
 */
export function runComposition(
  plan: Composition,
  ctx: RunContext,
  done: (err: GatewayError | undefined, outcome: RunOutcome | undefined) => void,
): Cancel {
  const n = plan.calls.length;
  const results: Array<Msg | Msg[] | undefined> = new Array(n).fill(undefined);
  const errors: Array<GatewayError | undefined> = new Array(n).fill(undefined);
  const state = new Array<"waiting" | "running" | "ended">(n).fill("waiting");
  const inFlight = new Set<Cancel>();
  const deadline = ctx.timeoutMs > 0 ? Date.now() + ctx.timeoutMs : Number.POSITIVE_INFINITY;
  let finished = false;
  let ended = 0;

  const finish = (err: GatewayError | undefined): void => {
    if (finished) return;
    finished = true;
    for (const c of [...inFlight]) c();
    inFlight.clear();
    done(err, err ? undefined : { results, errors });
  };
  const end = (i: number, err: GatewayError | undefined, value: Msg | Msg[] | undefined): void => {
    if (finished) return;
    state[i] = "ended";
    ended++;
    errors[i] = err;
    results[i] = value;
    if (err && plan.calls[i]!.required) finish(err);
    else if (ended === n) finish(undefined);
    else schedule();
  };
  const schedule = (): void => {
    for (let i = 0; i < n && !finished; i++) {
      if (state[i] !== "waiting") continue;
      const call = plan.calls[i]!;
      if (call.deps.some((d) => state[d] !== "ended")) continue;
      state[i] = "running";
      const failed = call.deps.find((d) => errors[d] !== undefined);
      if (failed !== undefined) {
        const cause = errors[failed]!;
        end(
          i,
          new GatewayError(
            cause.code,
            `${call.name} not called: ${plan.calls[failed]!.name} failed: ${cause.message}`,
            { details: cause.details },
          ),
          undefined,
        );
        continue;
      }
      start(i, call);
    }
  };
  const start = (i: number, call: PlannedCall): void => {
    try {
      if (!call.forEach) {
        const msg = buildPartRequest(call, ctx.inputs, results, undefined, ctx.read);
        invokePart(call, msg, (err, m) => end(i, err, m));
        return;
      }
      const items = readSource(call.forEach.source, ctx.inputs, results, undefined);
      const list = (items ?? []) as Array<FieldValue | string>;
      if (list.length > call.forEach.maxItems)
        throw invalidArgument(
          `${call.name}: ${list.length} items, at most ${call.forEach.maxItems} are allowed`,
        );
      fanOut(call, list, (err, ms) => end(i, err, ms));
    } catch (err) {
      // A request that cannot be built is the client's error, and fails the call without sending it.
      queueMicrotask(() => end(i, GatewayError.from(err), undefined));
    }
  };
  const fanOut = (
    call: PlannedCall,
    list: ReadonlyArray<FieldValue | string>,
    cb: (err: GatewayError | undefined, ms: Msg[] | undefined) => void,
  ): void => {
    const out: Msg[] = new Array(list.length);
    let next = 0;
    let left = list.length;
    let failed = false;
    if (left === 0) return void queueMicrotask(() => cb(undefined, out));
    const more = (): void => {
      if (failed || finished || next >= list.length) return;
      const k = next++;
      let msg: Msg;
      try {
        msg = buildPartRequest(call, ctx.inputs, results, list[k], ctx.read);
      } catch (err) {
        failed = true;
        return void queueMicrotask(() => cb(GatewayError.from(err), undefined));
      }
      invokePart(call, msg, (err, m) => {
        if (failed) return;
        if (err) {
          failed = true;
          return cb(
            new GatewayError(err.code, `${call.name}[${k}]: ${err.message}`, { details: err.details }),
            undefined,
          );
        }
        out[k] = m!;
        if (--left === 0) return cb(undefined, out);
        more();
      });
    };
    for (let c = 0; c < Math.min(call.forEach!.concurrency, list.length); c++) more();
  };
  const invokePart = (
    call: PlannedCall,
    message: Msg,
    cb: (err: GatewayError | undefined, m: Msg | undefined) => void,
  ): void => {
    const left = deadline - Date.now();
    if (left <= 0)
      return void queueMicrotask(() =>
        cb(new GatewayError(Code.DEADLINE_EXCEEDED, `${call.name}: no time left for this call`), undefined),
      );
    const own = call.timeoutMs ?? call.route.settings.timeoutMs;
    const budget = Math.min(own > 0 ? own : Number.POSITIVE_INFINITY, left);
    if (!call.invoke)
      return void queueMicrotask(() =>
        cb(new GatewayError(Code.UNAVAILABLE, `${call.name}: no target`), undefined),
      );
    const part: UpstreamCall = {
      route: call.route,
      message,
      encoded: encodeMessage(call.method.input, message, ENCODED_OFFSET),
      metadata: copyMetadata(ctx.metadata),
      timeoutMs: Number.isFinite(budget) ? Math.max(1, Math.floor(budget)) : 0,
      requestId: ctx.requestId,
      principal: ctx.principal,
      claims: ctx.claims,
      headers: ctx.headers,
      idempotencyKey: undefined,
      notes: {},
    };
    const cancel = call.invoke(part, (err, result) => {
      inFlight.delete(cancel);
      if (finished) return;
      if (err) return cb(err, undefined);
      try {
        cb(undefined, resultMessage(call, result!, ctx.read));
      } catch (e) {
        cb(GatewayError.from(e), undefined);
      }
    });
    inFlight.add(cancel);
  };

  schedule();
  return () => finish(new GatewayError(Code.CANCELLED, "the client went away"));
}

/** Each part gets its own metadata: interceptors of one call (tracing, retries) must not see another's. */
function copyMetadata(from: Metadata): Metadata {
  const to = new Metadata();
  for (const [k, values] of from.entries()) for (const v of values) to.add(k, v);
  return to;
}
