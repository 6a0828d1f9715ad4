import { checkShape } from "./schema-check.js";
import { bool, type JsonSchema, object, text } from "./schema-kit.js";

/** `metrics:` Prometheus exposition. On by default. */
export interface MetricsConfig {
  readonly enabled?: boolean;
  /** Path of the text exposition, on the admin listener when there is one (default `/metrics`). */
  readonly path?: string;
}

/**
 * `tracing:` OpenTelemetry traces exported over OTLP/HTTP (protobuf). Off by default. What is not set
 * here comes from the standard environment (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`); `OTEL_SDK_DISABLED=true` turns it off.
 */
export interface TracingConfig {
  readonly enabled?: boolean;
  /** Share of new traces sampled, 0..1 (parent-based: a client's sampled flag wins). */
  readonly sampleRatio?: number;
  /** OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  readonly endpoint?: string;
}

/** `accessLog:` one JSON line per request through the gateway's logger, at info. On by default. */
export interface AccessLogConfig {
  readonly enabled?: boolean;
  /** Share of requests logged, 0..1 (default 1); answers of 500 and above are always logged. */
  readonly sampleRatio?: number;
}

export const OBSERVABILITY_DEFAULTS = { metricsPath: "/metrics" } as const;

const ratio = (description: string): JsonSchema => ({
  description,
  type: "number",
  minimum: 0,
  maximum: 1,
  errorMessage: "expected a number from 0 to 1",
});

/** `metrics:`. */
export const metricsSchema: JsonSchema = object("Prometheus metrics (text exposition). On by default.", {
  enabled: bool("Serve the metrics.", true),
  path: text("Path of the exposition, on the admin listener when there is one.", {
    default: "/metrics",
    pattern: "^/",
    errorMessage: 'expected a path starting with "/"',
  }),
});

/** `tracing:`. */
export const tracingSchema: JsonSchema = object(
  "OpenTelemetry traces over OTLP/HTTP; also configured by the OTEL_* environment variables.",
  {
    enabled: bool("Export traces (on when the section is present).", true),
    sampleRatio: ratio("Share of new traces sampled, 0..1 (parent-based: a client's sampled flag wins)."),
    endpoint: text("OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces.", {
      pattern: "^https?://",
      errorMessage: "expected an http:// or https:// URL",
    }),
  },
);

/** `accessLog:`. */
export const accessLogSchema: JsonSchema = object("One JSON line per request, at info. On by default.", {
  enabled: bool("Write the access log.", true),
  sampleRatio: ratio("Share of requests logged, 0..1 (answers of 500 and above always are)."),
});

/** Reads `metrics:`; throws LoadError (CONFIG_INVALID) naming `where`. */
export function readMetricsConfig(v: unknown, where: string): MetricsConfig {
  const o = checkShape<MetricsConfig>(metricsSchema, v, where);
  return { enabled: o.enabled ?? true, ...(o.path ? { path: o.path } : {}) };
}

/** Reads `tracing:`; throws LoadError (CONFIG_INVALID) naming `where`. */
export function readTracingConfig(v: unknown, where: string): TracingConfig {
  const o = checkShape<TracingConfig>(tracingSchema, v, where);
  return { ...o, enabled: o.enabled ?? true };
}

/** Reads `accessLog:`; throws LoadError (CONFIG_INVALID) naming `where`. */
export function readAccessLogConfig(v: unknown, where: string): AccessLogConfig {
  const o = checkShape<AccessLogConfig>(accessLogSchema, v, where);
  return { ...o, enabled: o.enabled ?? true };
}

const LOGGED_AT_INFO = new Set(["info", "debug", "trace"]);

/**
 * Whether the access log writes anything: on unless `accessLog.enabled: false`, and only when the
 * logger's level lets `info` lines through (default level info). At `warn` and above it would build a
 * line per request that pino then drops.
 */
export function accessLogOn(options: { accessLog?: AccessLogConfig; logLevel?: string | false }): boolean {
  return (
    options.accessLog?.enabled !== false &&
    LOGGED_AT_INFO.has(options.logLevel === undefined ? "info" : String(options.logLevel))
  );
}
