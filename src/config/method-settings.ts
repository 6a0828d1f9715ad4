import { readFaultPolicy } from "../interceptors/fault-injection.js";
import { readRetryPolicy } from "../interceptors/retry/policy.js";
import { readRequirement } from "../policies/auth/config.js";
import { readOrigins } from "../policies/cors.js";
import { readLimits } from "../policies/rate-limit/config.js";
import { parseDurationMs } from "./duration.js";
import type { MethodSettings } from "./options.js";

interface MethodEntry {
  timeout?: string | number;
  maxTimeout?: string | number;
  retry?: unknown;
  idempotent?: boolean;
  fault?: unknown;
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
  if (o.unknownQueryParameters !== undefined) out.unknownQueryParameters = o.unknownQueryParameters;
  if (o.json !== undefined) out.json = { ...o.json };
  if (o.auth !== undefined) out.auth = readRequirement(o.auth, `${where}.auth`);
  if (o.rateLimit !== undefined) out.rateLimit = readLimits(o.rateLimit, `${where}.rateLimit`);
  if (o.corsOrigins !== undefined) out.corsOrigins = readOrigins(o.corsOrigins, `${where}.corsOrigins`);
  return out;
}
