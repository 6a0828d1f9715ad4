import { accessLogOn } from "../config/observability.js";
import type { GatewayOptions } from "../config/options.js";
import type { Interceptor } from "../interceptors/interceptor.js";
import type { Invoke } from "../upstream/call.js";
import { codeName } from "./code-name.js";
import { upstreamDuration } from "./metrics.js";

type Observer = { observe(v: number): void };

/**
 * Times every upstream attempt: `protogate_upstream_request_duration_seconds` by protocol, backend, RPC
 * method and outcome, and the call's notes for the access log and the request metric (`attempts`,
 * `upstreamMs` summed over attempts, `outcome`: the gRPC code name of a failure, the target's own
 * outcome or "OK" on success). Placed after retry in INTERCEPTORS so that it sees each attempt. On when
 * metrics or the access log are (both read what it notes).
 */
export function metricsInterceptor(options: GatewayOptions): Interceptor | undefined {
  // the notes it fills are for the metrics and the access log: with neither, it costs nothing
  if (options.metrics?.enabled === false && !accessLogOn(options)) return undefined;
  return {
    name: "metrics",
    wrap(next, route, target): Invoke {
      const method = `${route.method.service}/${route.method.name}`;
      // children bound per outcome once: no label object per call
      const byOutcome = new Map<string, Observer>();
      const observer = (outcome: string): Observer => {
        let o = byOutcome.get(outcome);
        if (!o)
          byOutcome.set(
            outcome,
            (o = upstreamDuration.labels(target.protocol, target.upstream, method, outcome)),
          );
        return o;
      };
      return (call, done) => {
        const start = performance.now();
        const notes = call.notes;
        notes.attempts = (notes.attempts ?? 0) + 1;
        notes.outcome = undefined; // a retry's outcome is its own
        return next(call, (err, result) => {
          const ms = performance.now() - start;
          notes.upstreamMs = (notes.upstreamMs ?? 0) + ms;
          const outcome = err ? codeName(err.code) : (notes.outcome ?? "OK");
          notes.outcome = outcome;
          observer(outcome).observe(ms / 1000);
          done(err, result);
        });
      };
    },
  };
}
