import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { asObject, onlyKeys } from "../../config/validate.js";
import { Code } from "../../errors/code.js";

declare module "../../config/options.js" {
  interface GatewayOptions {
    /** How every backend address spreads its calls over its endpoints (`backends.balancing`). */
    readonly balancing?: BalancingConfigInput;
    /** Overrides for single backend addresses, by address as routes write it (`backends.balancingByAddress`). */
    readonly balancingByAddress?: Readonly<Record<string, BalancingConfigInput>>;
  }
}

/**
 * How a channel spreads calls over the endpoints of one backend address (issue #17, points 5 and 6).
 * Durations are milliseconds.
 */
export interface BalancingConfig {
  /** round_robin: each ready endpoint in turn; least_request: of two picked at random, the one with fewer calls in flight. */
  readonly policy: "round_robin" | "least_request";
  /** Undefined: no outlier ejection. */
  readonly outlierDetection: OutlierDetection | undefined;
  /** Undefined: no active health checks (connection state alone decides). */
  readonly healthCheck: HealthCheck | undefined;
}

/**
 * Envoy's consecutive-failure outlier detection: an endpoint whose last `consecutiveFailures` calls or
 * connection attempts failed leaves the rotation for `baseEjectionTimeMs * times ejected`, at most
 * `maxEjectionTimeMs`. At most `maxEjectionPercent` of the endpoints are out at once (at least one may
 * be, and at least one always stays).
 */
export interface OutlierDetection {
  readonly consecutiveFailures: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  /** Call statuses that count as the endpoint's failure (connection failures always do). */
  readonly codes: readonly number[];
}

/**
 * Active checks with grpc.health.v1.Health/Check (grpc/health/v1/health.proto): one every
 * `intervalMs` per connected endpoint; `unhealthyThreshold` failed checks in a row (NOT_SERVING,
 * SERVICE_UNKNOWN, a timeout, an error) take it out, `healthyThreshold` SERVING in a row bring it back.
 * UNIMPLEMENTED counts as SERVING: a server without the Health service is taken as configured.
 */
export interface HealthCheck {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** The service name to ask about; "" asks about the whole server. */
  readonly service: string;
}

/** What the options accept: every field optional, defaults below fill the rest. */
export interface BalancingConfigInput {
  readonly policy?: BalancingConfig["policy"];
  /** false turns ejection off; an object sets some fields. */
  readonly outlierDetection?: Partial<OutlierDetection> | false;
  /** Present (even {}) turns health checks on. */
  readonly healthCheck?: Partial<HealthCheck> | false;
}

/** Envoy's defaults, but for the ejection share: with 3 endpoints, 10% would still allow one. */
export const DEFAULT_OUTLIER_DETECTION: OutlierDetection = {
  consecutiveFailures: 5,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
  codes: [Code.UNAVAILABLE],
};

export const DEFAULT_HEALTH_CHECK: HealthCheck = {
  intervalMs: 5000,
  timeoutMs: 1000,
  healthyThreshold: 1,
  unhealthyThreshold: 2,
  service: "",
};

/** Round robin, outlier ejection on with its defaults, no health checks. */
export const DEFAULT_BALANCING: BalancingConfig = {
  policy: "round_robin",
  outlierDetection: DEFAULT_OUTLIER_DETECTION,
  healthCheck: undefined,
};

/** The balancing of one backend address: `byAddress[address]` over `base`, over the defaults. */
export function balancingFor(
  address: string,
  base: BalancingConfigInput | undefined,
  byAddress: Readonly<Record<string, BalancingConfigInput>> | undefined,
): BalancingConfig {
  const own = byAddress?.[address];
  if (!base && !own) return DEFAULT_BALANCING;
  return {
    policy: own?.policy ?? base?.policy ?? DEFAULT_BALANCING.policy,
    outlierDetection: merge(DEFAULT_OUTLIER_DETECTION, base?.outlierDetection, own?.outlierDetection, true),
    healthCheck: merge(DEFAULT_HEALTH_CHECK, base?.healthCheck, own?.healthCheck, false),
  };
}

/** Later layers win; `false` in a layer turns the feature off, an object (even {}) on. */
function merge<T>(
  defaults: T,
  base: Partial<T> | false | undefined,
  own: Partial<T> | false | undefined,
  onByDefault: boolean,
): T | undefined {
  if (own === false || (own === undefined && base === false)) return undefined;
  if (!onByDefault && own === undefined && base === undefined) return undefined;
  return { ...defaults, ...(base || {}), ...(own || {}) };
}

/**
 * Reads `balancing: { policy, outlierDetection: { consecutiveFailures, baseEjectionTime,
 * maxEjectionTime, maxEjectionPercent, codes }, healthCheck: { interval, timeout, healthyThreshold,
 * unhealthyThreshold, service } }` (durations as "30s" or ms). Throws LoadError (CONFIG_INVALID) naming `where`.
 */
export function readBalancing(v: unknown, where: string): BalancingConfigInput {
  const o = asObject(v, where);
  onlyKeys(o, ["policy", "outlierDetection", "healthCheck"], where);
  const out: { -readonly [K in keyof BalancingConfigInput]: BalancingConfigInput[K] } = {};
  if (o.policy !== undefined) {
    if (o.policy !== "round_robin" && o.policy !== "least_request")
      throw new LoadError("CONFIG_INVALID", `${where}.policy`, "expected round_robin or least_request");
    out.policy = o.policy;
  }
  if (o.outlierDetection !== undefined)
    out.outlierDetection =
      o.outlierDetection === false ? false : readOutlier(o.outlierDetection, `${where}.outlierDetection`);
  if (o.healthCheck !== undefined)
    out.healthCheck = o.healthCheck === false ? false : readHealth(o.healthCheck, `${where}.healthCheck`);
  return out;
}

/** Reads `balancingByAddress: { "<address>": <balancing> }`. */
export function readBalancingByAddress(v: unknown, where: string): Record<string, BalancingConfigInput> {
  const o = asObject(v, where);
  const out: Record<string, BalancingConfigInput> = {};
  for (const [address, b] of Object.entries(o)) out[address] = readBalancing(b, `${where}.${address}`);
  return out;
}

function readOutlier(v: unknown, where: string): Partial<OutlierDetection> {
  const o = asObject(v, where);
  onlyKeys(
    o,
    ["consecutiveFailures", "baseEjectionTime", "maxEjectionTime", "maxEjectionPercent", "codes"],
    where,
  );
  const out: { -readonly [K in keyof OutlierDetection]?: OutlierDetection[K] } = {};
  if (o.consecutiveFailures !== undefined)
    out.consecutiveFailures = whole(o.consecutiveFailures, 1, `${where}.consecutiveFailures`);
  if (o.baseEjectionTime !== undefined)
    out.baseEjectionTimeMs = duration(o.baseEjectionTime, `${where}.baseEjectionTime`);
  if (o.maxEjectionTime !== undefined)
    out.maxEjectionTimeMs = duration(o.maxEjectionTime, `${where}.maxEjectionTime`);
  if (o.maxEjectionPercent !== undefined) {
    const p = o.maxEjectionPercent;
    if (typeof p !== "number" || !(p >= 0 && p <= 100))
      throw new LoadError("CONFIG_INVALID", `${where}.maxEjectionPercent`, "expected a number from 0 to 100");
    out.maxEjectionPercent = p;
  }
  if (o.codes !== undefined) out.codes = readCodes(o.codes, `${where}.codes`);
  return out;
}

function readHealth(v: unknown, where: string): Partial<HealthCheck> {
  const o = asObject(v, where);
  onlyKeys(o, ["interval", "timeout", "healthyThreshold", "unhealthyThreshold", "service"], where);
  const out: { -readonly [K in keyof HealthCheck]?: HealthCheck[K] } = {};
  if (o.interval !== undefined) out.intervalMs = Math.max(1, duration(o.interval, `${where}.interval`));
  if (o.timeout !== undefined) out.timeoutMs = Math.max(1, duration(o.timeout, `${where}.timeout`));
  if (o.healthyThreshold !== undefined)
    out.healthyThreshold = whole(o.healthyThreshold, 1, `${where}.healthyThreshold`);
  if (o.unhealthyThreshold !== undefined)
    out.unhealthyThreshold = whole(o.unhealthyThreshold, 1, `${where}.unhealthyThreshold`);
  if (o.service !== undefined) {
    if (typeof o.service !== "string")
      throw new LoadError(
        "CONFIG_INVALID",
        `${where}.service`,
        'expected a service name, or "" for the server',
      );
    out.service = o.service;
  }
  return out;
}

/** Code names as google.rpc.Code spells them (`[UNAVAILABLE, INTERNAL]`); OK is not a failure. */
function readCodes(v: unknown, where: string): number[] {
  return ([] as unknown[]).concat(v).map((name, i) => {
    const code =
      typeof name === "string" && Object.hasOwn(Code, name)
        ? (Code as Record<string, number>)[name]
        : undefined;
    if (code === undefined || code === Code.OK)
      throw new LoadError("CONFIG_INVALID", `${where}[${i}]`, "expected a gRPC code name other than OK");
    return code;
  });
}

function whole(v: unknown, min: number, where: string): number {
  if (!Number.isInteger(v) || (v as number) < min)
    throw new LoadError("CONFIG_INVALID", where, `expected a whole number >= ${min}`);
  return v as number;
}

function duration(v: unknown, where: string): number {
  const ms = parseDurationMs(v);
  if (ms === undefined) throw new LoadError("CONFIG_INVALID", where, 'expected a duration such as "30s"');
  return ms;
}
