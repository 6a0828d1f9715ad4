import { type Attributes, type Context, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import type { GatewayOptions } from "../config/options.js";
import type { Interceptor } from "../interceptors/interceptor.js";
import type { Route } from "../routing/route.js";
import type { CallNotes, Invoke } from "../upstream/call.js";
import type { Metadata } from "../upstream/call-metadata.js";
import type { StreamTarget, UnaryTarget } from "../upstream/target.js";
import { endClientSpan, startClientSpan } from "./client-span.js";
import { traceStream } from "./stream-tracing.js";
import { parseTraceparent } from "./trace-context.js";
import { tracingFor } from "./tracing.js";

/**
 * A CLIENT span per upstream attempt, child of the request's SERVER span (whose `traceparent` the
 * server hook put in the call's metadata), with OpenTelemetry's RPC conventions (`rpc.system`,
 * `rpc.service`, `rpc.method`, `rpc.grpc.status_code`, `server.address`/`server.port`) or messaging
 * ones for AMQP (`messaging.system: rabbitmq`, `messaging.destination.name`, `messaging.operation.*`).
 * The backend gets this span's `traceparent`. Streams get one CLIENT span per attempt too
 * (stream-tracing.ts). On only when tracing is.
 */
export function tracingInterceptor(options: GatewayOptions): Interceptor | undefined {
  const tracing = tracingFor(options);
  if (!tracing) return undefined;
  const { tracer } = tracing;
  return {
    name: "tracing",
    wrap(next, route, target): Invoke {
      const name = spanName(route, target);
      const attributes = targetAttributes(route, target);
      const isGrpc = target.protocol === "grpc";
      return (call, done) => {
        const span = startClientSpan(
          tracer,
          name,
          attributes,
          parentOf(call.metadata, call.notes),
          call.metadata,
        );
        return next(call, (err, result) => {
          endClientSpan(span, err, isGrpc);
          done(err, result);
        });
      };
    },
    wrapStream: (next, route, target) =>
      traceStream(
        next,
        tracer,
        spanName(route, target),
        targetAttributes(route, target),
        target.protocol === "grpc",
        parentOf,
      ),
  };
}

/**
 * The parent span context of an attempt's CLIENT span: the `traceparent` the call came with (the server
 * span's, or the client's). Each attempt puts its own span's in the metadata, so the first one notes the
 * original (`notes.parentTraceparent`): a retry's span is the sibling of the first, not its child.
 */
function parentOf(md: Metadata, notes: CallNotes): Context {
  let v = notes.parentTraceparent;
  if (v === undefined) {
    const sent = md.get("traceparent")[0];
    v = notes.parentTraceparent = typeof sent === "string" ? sent : "";
  }
  const tp = v === "" ? undefined : parseTraceparent(v);
  if (!tp) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: tp.traceId,
    spanId: tp.spanId,
    traceFlags: tp.flags & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** gRPC: `package.Service/Method` (the RPC conventions); AMQP: `publish <exchange>` (messaging's). */
function spanName(route: Route, target: UnaryTarget | StreamTarget): string {
  if (target.protocol === "grpc") return `${route.method.service}/${route.method.name}`;
  return `publish ${exchangeOf(target)}`;
}

/** Attributes known when the route is bound: the same for every attempt. */
function targetAttributes(route: Route, target: UnaryTarget | StreamTarget): Attributes {
  if (target.protocol === "grpc") {
    const { host, port } = hostPort(target.upstream);
    return {
      "rpc.system": "grpc",
      "rpc.service": route.method.service,
      "rpc.method": route.method.name,
      "server.address": host,
      ...(port === undefined ? {} : { "server.port": port }),
    };
  }
  return {
    "messaging.system": "rabbitmq",
    "messaging.operation.type": "send",
    "messaging.operation.name": "publish",
    "messaging.destination.name": exchangeOf(target),
    "rpc.service": route.method.service,
    "rpc.method": route.method.name,
    "protogate.amqp.mode": target.kind === "amqp-rpc" ? "rpc" : "command",
  };
}

/** An AMQP target's upstream is "broker/exchange". */
function exchangeOf(target: UnaryTarget | StreamTarget): string {
  const slash = target.upstream.indexOf("/");
  return slash === -1 ? target.upstream : target.upstream.slice(slash + 1);
}

/** "dns:host:port", "tls://host:port", "unix:/path", "host:port" -> host and port. */
function hostPort(address: string): { host: string; port: number | undefined } {
  const bare = address.replace(/^(dns:|tls:\/\/|unix:|ipv4:|ipv6:)/, "");
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(bare);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: bare, port: undefined };
}
