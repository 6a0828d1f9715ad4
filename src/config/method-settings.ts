import { readCachePolicy } from "../interceptors/cache/policy.js";
import { readFaultPolicy } from "../interceptors/fault-injection.js";
import { readRetryPolicy } from "../interceptors/retry/policy.js";
import { readRequirement } from "../policies/auth/config.js";
import { readOrigins } from "../policies/cors.js";
import { readLimits } from "../policies/rate-limit/config.js";
import { parseDurationMs, parseSizeBytes } from "./duration.js";
import type { MethodSettings } from "./options.js";

interface MethodEntry {
  timeout?: string | number;
  maxTimeout?: string | number;
  retry?: unknown;
  idempotent?: boolean;
  fault?: unknown;
  cache?: unknown;
  stream?: {
    heartbeatInterval?: string | number;
    maxStreamDuration?: string | number;
    idleTimeout?: string | number;
    wrapMessages?: boolean;
    maxMessageBytes?: string | number;
    maxMessages?: number;
    retry?: string | number;
  };
  unknownQueryParameters?: "ignore" | "reject";
  json?: MethodSettings["json"];
  auth?: unknown;
  rateLimit?: unknown;
  corsOrigins?: unknown;
}

/**
 * Reads route settings (`timeout`, `unknownQueryParameters`, `json`, `auth`, `rateLimit`, `corsOrigins`)
 * from a config or mapping file whose shape methodSettingsSchema has checked; `where` names the place.
 */
export function readMethodSettings(v: unknown, where: string): MethodSettings {
  const o = v as MethodEntry;
  const out: { -readonly [K in keyof MethodSettings]: MethodSettings[K] } = {};
  if (o.timeout !== undefined) out.timeoutMs = parseDurationMs(o.timeout)!;
  if (o.maxTimeout !== undefined) out.maxTimeoutMs = parseDurationMs(o.maxTimeout)!;
  if (o.retry !== undefined) out.retry = readRetryPolicy(o.retry, `${where}.retry`);
  if (o.idempotent !== undefined) out.idempotent = o.idempotent;
  if (o.fault !== undefined) out.fault = readFaultPolicy(o.fault, `${where}.fault`);
  if (o.cache !== undefined) out.cache = readCachePolicy(o.cache, `${where}.cache`);
  if (o.stream !== undefined) out.stream = readStream(o.stream);
  if (o.unknownQueryParameters !== undefined) out.unknownQueryParameters = o.unknownQueryParameters;
  if (o.json !== undefined) out.json = { ...o.json };
  if (o.auth !== undefined) out.auth = readRequirement(o.auth, `${where}.auth`);
  if (o.rateLimit !== undefined) out.rateLimit = readLimits(o.rateLimit, `${where}.rateLimit`);
  if (o.corsOrigins !== undefined) out.corsOrigins = readOrigins(o.corsOrigins, `${where}.corsOrigins`);
  return out;
}

/** `stream:` (checked by methodSettingsSchema) with durations in ms and sizes in bytes. */
function readStream(v: NonNullable<MethodEntry["stream"]>): MethodSettings["stream"] {
  const ms = (x: string | number | undefined) => (x === undefined ? undefined : parseDurationMs(x));
  return {
    heartbeatInterval: ms(v.heartbeatInterval),
    maxStreamDuration: ms(v.maxStreamDuration),
    idleTimeout: ms(v.idleTimeout),
    wrapMessages: v.wrapMessages,
    maxMessageBytes: v.maxMessageBytes === undefined ? undefined : parseSizeBytes(v.maxMessageBytes),
    maxMessages: v.maxMessages,
    retry: ms(v.retry),
  };
}
