import { LoadError } from "../config/load-error.js";
import { asObject, onlyKeys, optBool, optParsed, optString } from "../config/validate.js";

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

const ratio = (v: unknown): number | undefined => (typeof v === "number" && v >= 0 && v <= 1 ? v : undefined);

/** `metrics: { enabled, path }`. Throws LoadError saying where. */
export function readMetricsConfig(v: unknown, where: string): MetricsConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["enabled", "path"], where);
  const path = optString(o, "path", where);
  if (path !== undefined && !path.startsWith("/"))
    throw new LoadError("CONFIG_INVALID", `${where}.path`, 'expected a path starting with "/"');
  return { enabled: optBool(o, "enabled", where) ?? true, ...(path ? { path } : {}) };
}

/** `tracing: { enabled, sampleRatio, endpoint }`. Throws LoadError saying where. */
export function readTracingConfig(v: unknown, where: string): TracingConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["enabled", "sampleRatio", "endpoint"], where);
  const sampleRatio = optParsed(o, "sampleRatio", where, ratio, "a number from 0 to 1");
  const endpoint = optString(o, "endpoint", where);
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint))
    throw new LoadError("CONFIG_INVALID", `${where}.endpoint`, "expected an http:// or https:// URL");
  return {
    enabled: optBool(o, "enabled", where) ?? true,
    ...(sampleRatio === undefined ? {} : { sampleRatio }),
    ...(endpoint === undefined ? {} : { endpoint }),
  };
}

/** `accessLog: { enabled, sampleRatio }`. Throws LoadError saying where. */
export function readAccessLogConfig(v: unknown, where: string): AccessLogConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["enabled", "sampleRatio"], where);
  const sampleRatio = optParsed(o, "sampleRatio", where, ratio, "a number from 0 to 1");
  return {
    enabled: optBool(o, "enabled", where) ?? true,
    ...(sampleRatio === undefined ? {} : { sampleRatio }),
  };
}
