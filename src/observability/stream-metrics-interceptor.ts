import { accessLogOn } from "../config/observability.js";
import type { GatewayOptions } from "../config/options.js";
import type { Interceptor, OpenStream } from "../interceptors/interceptor.js";
import type { Route } from "../routing/route.js";
import type { StreamTarget } from "../upstream/target.js";
import { codeName } from "./code-name.js";
import { upstreamDuration } from "./metrics.js";
import { activeStreams, streamDuration, streamMessages } from "./stream-metrics.js";

type Observer = { observe(v: number): void };

/**
 * The metrics interceptor's twin for streams (it wraps streams only; metrics-interceptor.ts times unary
 * calls): per upstream stream attempt, `protogate_upstream_active_streams` while it is open,
 * `protogate_upstream_stream_messages_total` per message each way, and at its end its duration in
 * `protogate_upstream_stream_duration_seconds` and `protogate_upstream_request_duration_seconds`, both
 * labelled with the final gRPC code name. It notes `attempts`, `upstreamMs` and `outcome` on the call as
 * the unary one does, for the access log. On when metrics or the access log are.
 */
export function streamMetricsInterceptor(options: GatewayOptions): Interceptor | undefined {
  if (options.metrics?.enabled === false && !accessLogOn(options)) return undefined;
  return {
    name: "streamMetrics",
    wrap: (next) => next,
    wrapStream: measureStream,
  };
}

function measureStream(next: OpenStream, route: Route, target: StreamTarget): OpenStream {
  const method = `${route.method.service}/${route.method.name}`;
  const labels = [target.protocol, target.upstream, method] as const;
  // children bound once per route (and per outcome): no label object per stream or message
  const sent = streamMessages.labels(...labels, "sent");
  const received = streamMessages.labels(...labels, "received");
  const active = activeStreams.labels(...labels);
  const byOutcome = new Map<string, [Observer, Observer]>();
  const observers = (outcome: string): [Observer, Observer] => {
    let o = byOutcome.get(outcome);
    if (!o)
      byOutcome.set(
        outcome,
        (o = [upstreamDuration.labels(...labels, outcome), streamDuration.labels(...labels, outcome)]),
      );
    return o;
  };
  return (call, sink) => {
    const start = performance.now();
    const notes = call.notes;
    notes.attempts = (notes.attempts ?? 0) + 1;
    notes.outcome = undefined;
    active.inc();
    let ended = false;
    const control = next(call, {
      onHeaders: (headers) => sink.onHeaders(headers),
      onMessage(message) {
        received.inc();
        sink.onMessage(message);
      },
      onDrain: () => sink.onDrain(),
      onEnd(err, trailers) {
        ended = true;
        active.dec();
        const ms = performance.now() - start;
        notes.upstreamMs = (notes.upstreamMs ?? 0) + ms;
        const outcome = err ? codeName(err.code) : "OK";
        notes.outcome = outcome;
        const [request, stream] = observers(outcome);
        request.observe(ms / 1000);
        stream.observe(ms / 1000);
        sink.onEnd(err, trailers);
      },
    });
    return {
      write(encoded) {
        if (!ended) sent.inc();
        return control.write(encoded);
      },
      end: () => control.end(),
      cancel: () => control.cancel(),
      pause: () => control.pause(),
      resume: () => control.resume(),
    };
  };
}
