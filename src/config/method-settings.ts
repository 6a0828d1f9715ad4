import { readRequirement } from "../policies/auth/config.js";
import { readOrigins } from "../policies/cors.js";
import { readLimits } from "../policies/rate-limit/config.js";
import { parseDurationMs } from "./duration.js";
import type { MethodSettings } from "./options.js";
import { asObject, type Obj, onlyKeys, optBool, optParsed } from "./validate.js";

/** Reads route settings (`timeout`, `unknownQueryParameters`, `json`) from a config or mapping file. */
export function readMethodSettings(v: unknown, where: string): MethodSettings {
  const o = asObject(v, where);
  onlyKeys(o, ["timeout", "unknownQueryParameters", "json", "auth", "rateLimit", "corsOrigins"], where);
  const out: { -readonly [K in keyof MethodSettings]: MethodSettings[K] } = {};
  const timeout = optParsed(o, "timeout", where, parseDurationMs, 'a duration such as "5s" (0 for none)');
  if (timeout !== undefined) out.timeoutMs = timeout;
  const uq = optParsed(
    o,
    "unknownQueryParameters",
    where,
    (x) => (x === "ignore" || x === "reject" ? x : undefined),
    '"ignore" or "reject"',
  );
  if (uq !== undefined) out.unknownQueryParameters = uq;
  if (o.json !== undefined) out.json = readJson(asObject(o.json, `${where}.json`), `${where}.json`);
  if (o.auth !== undefined) out.auth = readRequirement(o.auth, `${where}.auth`);
  if (o.rateLimit !== undefined) out.rateLimit = readLimits(o.rateLimit, `${where}.rateLimit`);
  if (o.corsOrigins !== undefined) out.corsOrigins = readOrigins(o.corsOrigins, `${where}.corsOrigins`);
  return out;
}

function readJson(o: Obj, where: string): MethodSettings["json"] {
  const keys = ["emitUnpopulated", "useProtoNames", "enumsAsNumbers", "ignoreUnknownFields"] as const;
  onlyKeys(o, keys, where);
  const out: Record<string, boolean> = {};
  for (const k of keys) {
    const b = optBool(o, k, where);
    if (b !== undefined) out[k] = b;
  }
  return out;
}
