import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from "fastify";
import { accessLogOn, OBSERVABILITY_DEFAULTS } from "../config/observability.js";
import type { GatewayOptions } from "../config/options.js";
import { GatewayError } from "../errors/gateway-error.js";
import { httpStatusFromCode } from "../errors/http-status.js";
import { AccessLog } from "./access-log.js";
import { countRequestIn, recordRequest } from "./http-metrics.js";
import { logDestination } from "./log-destination.js";
import { type ConfigFacts, collectProcessMetrics, reportConfig } from "./metrics.js";
import { registerMetricsRoute } from "./metrics-route.js";
import { ServerSpans } from "./server-spans.js";
import { tracingFor } from "./tracing.js";
import "./request-facts.js";

/**
 * Wires metrics, traces and the access log into a gateway: `GET /metrics` on the admin app (or the
 * public one), and one onError and onResponse hook on the public app that do what the options turn on
 * (metrics and the access log by default, tracing when `tracing.enabled`). Returns `observe`, the
 * request's way in (metrics' in-flight count, the server span), which the gateway's first onRequest
 * hook runs before anything else (edge-hooks.ts), so that every request counted in is counted out;
 * undefined when neither metrics nor tracing is on. The hooks are callback-style: no promise per request. `close` is what
 * the gateway's close must run.
 */
export function registerObservability(
  app: FastifyInstance,
  admin: FastifyInstance | undefined,
  options: GatewayOptions,
  config: () => ConfigFacts,
  /** Guards `/metrics` when it shares the public port (admin.ts localOnly). */
  guard?: onRequestHookHandler,
): { close(): Promise<void>; observe: ((req: FastifyRequest) => void) | undefined } {
  const metricsOn = options.metrics?.enabled !== false;
  const tracing = tracingFor(options);
  const spans = tracing ? new ServerSpans(tracing.tracer) : undefined;
  const log = accessLogOn(options)
    ? new AccessLog(options.accessLog?.sampleRatio ?? 1, logDestination(), Boolean(options.trustProxy))
    : undefined;
  if (metricsOn) {
    collectProcessMetrics();
    reportConfig(config);
    registerMetricsRoute(
      admin ?? app,
      options.metrics?.path ?? OBSERVABILITY_DEFAULTS.metricsPath,
      admin ? undefined : guard,
    );
  }
  const close = async () => tracing?.shutdown();
  if (!metricsOn && !spans && !log) return { close, observe: undefined };

  // Everything a finished request records, once: from onResponse, or from onError for a client that went
  // away (no response is written then, so Fastify runs no onResponse).
  const end = (req: FastifyRequest, reply: FastifyReply, disconnected: boolean): void => {
    if (req.observed) return;
    req.observed = true;
    if (metricsOn) recordRequest(req, reply);
    spans?.end(req, reply, disconnected);
    log?.write(req, reply, disconnected);
  };
  app.decorateRequest("otelSpan", null);
  app.decorateRequest("errorCode", null);
  app.decorateRequest("observed", false);
  app.addHook("onError", (req: FastifyRequest, reply: FastifyReply, err: Error, done: () => void) => {
    if (err instanceof GatewayError) {
      req.errorCode = err.code;
      if (reply.raw.destroyed && !reply.raw.writableFinished) {
        reply.code(err.httpStatus ?? httpStatusFromCode(err.code)); // what the error handler would answer
        end(req, reply, true);
      }
    }
    done();
  });
  app.addHook("onResponse", (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    end(req, reply, !reply.raw.writableFinished);
    done();
  });
  const observe = spans
    ? (req: FastifyRequest) => {
        if (metricsOn) countRequestIn();
        spans.start(req);
      }
    : countRequestIn;
  return { close, observe: metricsOn || spans ? observe : undefined };
}
