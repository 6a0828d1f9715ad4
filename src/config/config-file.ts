import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readCacheConfig } from "../interceptors/cache/policy.js";
import { readCircuitBreaker } from "../interceptors/circuit-breaker/config.js";
import { readRetryBudget } from "../interceptors/retry/policy.js";
import { readAuthConfig } from "../policies/auth/config.js";
import { readCorsConfig } from "../policies/cors.js";
import { readIpFilterConfig } from "../policies/ip-filter.js";
import { readRateLimitConfig } from "../policies/rate-limit/config.js";
import { readAmqpConfig } from "../upstream/amqp/config.js";
import { readBalancing, readBalancingByAddress } from "../upstream/grpc/balancing.js";
import type { BackendTls } from "../upstream/grpc/channel.js";
import { parseDurationMs, parseSizeBytes } from "./duration.js";
import { type ListenerEntry, readListenerKeys } from "./listener-config.js";
import { LoadError } from "./load-error.js";
import { readMethodSettings } from "./method-settings.js";
import { readAccessLogConfig, readMetricsConfig, readTracingConfig } from "./observability.js";
import type { GatewayOptions } from "./options.js";
import { configSchema } from "./schema.js";
import { checkShape } from "./schema-check.js";
import { readYamlFile } from "./yaml-file.js";

/**
 * `protogate serve --config protogate.yaml`. Relative paths are relative to the file. The shape is
 * checked against configSchema (every problem reported, each with its line); then sizes and durations
 * are converted, paths resolved and PEM files read.
 *
 *   server: { host: 0.0.0.0, port: 8080, bodyLimit: 1mb }
 *   protos: [protos]
 *   mappings: mappings
 *   backends: { default: 127.0.0.1:9090, services: { bookstore.v1.Bookstore: tls://books:443 },
 *               tls: { ca: ca.pem, cert: client.pem, key: client-key.pem } }
 *   autoMapping: true
 *   defaults: { timeout: 30s, unknownQueryParameters: ignore, json: { emitUnpopulated: false } }
 *   logLevel: info
 *   metrics: { enabled: true, path: /metrics }
 *   tracing: { enabled: false, sampleRatio: 1, endpoint: http://collector:4318/v1/traces }
 *   accessLog: { enabled: true, sampleRatio: 1 }
 */
export function readConfigFile(file: string): GatewayOptions {
  return readYamlFile(file, (doc) => readConfig(doc, file));
}

/** The config file as its schema (configSchema) guarantees it; sections are read by their owners. */
interface ConfigEntry {
  server?: {
    host?: string;
    port?: number;
    bodyLimit?: string | number;
    maxHeaderSize?: string | number;
    admin?: { host?: string; port: number };
    shutdown?: { delay?: string | number; drainTimeout?: string | number };
  } & ListenerEntry;
  protos?: string | string[];
  descriptorSets?: string | string[];
  reflect?: string | string[];
  mappings?: string;
  backends?: {
    default?: string;
    services?: Record<string, string>;
    tls?: Record<string, string>;
    retryBudget?: unknown;
    balancing?: unknown;
    balancingByAddress?: unknown;
    circuitBreaker?: unknown;
    circuitBreakers?: Record<string, unknown>;
  };
  autoMapping?: boolean;
  defaults?: unknown;
  auth?: unknown;
  rateLimit?: unknown;
  trustProxy?: boolean | string | string[];
  cors?: unknown;
  ipFilter?: unknown;
  amqp?: unknown;
  logLevel?: string | false;
  cache?: unknown;
  metrics?: unknown;
  tracing?: unknown;
  accessLog?: unknown;
}

function readConfig(doc: unknown, file: string): GatewayOptions {
  const o = checkShape<ConfigEntry>(configSchema, doc ?? {}, file);
  const base = dirname(resolve(file));
  const server = o.server ?? {};
  const backends = o.backends ?? {};
  const paths = (v: string | string[] | undefined) => list(v).map((p) => resolve(base, p));
  return {
    protos: paths(o.protos),
    mappings: o.mappings === undefined ? undefined : resolve(base, o.mappings),
    descriptorSets: paths(o.descriptorSets),
    reflect: list(o.reflect),
    ...(o.auth === undefined ? {} : { auth: readAuthConfig(o.auth, `${file}: auth`) }),
    ...(o.rateLimit === undefined
      ? {}
      : { rateLimit: readRateLimitConfig(o.rateLimit, `${file}: rateLimit`) }),
    ...(o.cors === undefined ? {} : { cors: readCorsConfig(o.cors, `${file}: cors`) }),
    ...(o.amqp === undefined ? {} : { amqp: readAmqpConfig(o.amqp, `${file}: amqp`) }),
    ...(o.ipFilter === undefined ? {} : { ipFilter: readIpFilterConfig(o.ipFilter, `${file}: ipFilter`) }),
    ...(o.trustProxy === undefined ? {} : { trustProxy: o.trustProxy }),
    defaultBackend: backends.default,
    backends: backends.services ?? {},
    ...(backends.tls === undefined
      ? {}
      : { backendTls: readBackendTls(backends.tls, base, `${file}: backends.tls`) }),
    ...readResilience(backends, `${file}: backends`),
    host: server.host,
    port: server.port,
    ...(server.admin === undefined ? {} : { admin: server.admin }),
    bodyLimit: server.bodyLimit === undefined ? undefined : parseSizeBytes(server.bodyLimit),
    autoMapping: o.autoMapping,
    maxHeaderSize: server.maxHeaderSize === undefined ? undefined : parseSizeBytes(server.maxHeaderSize),
    ...readListenerKeys(server, base, `${file}: server`),
    ...(server.shutdown?.delay === undefined
      ? {}
      : { shutdownDelayMs: parseDurationMs(server.shutdown.delay) }),
    ...(server.shutdown?.drainTimeout === undefined
      ? {}
      : { shutdownGraceMs: parseDurationMs(server.shutdown.drainTimeout) }),
    routeDefaults: o.defaults === undefined ? undefined : readMethodSettings(o.defaults, `${file}: defaults`),
    ...(o.logLevel === undefined ? {} : { logLevel: o.logLevel }),
    ...(o.cache === undefined ? {} : { cache: readCacheConfig(o.cache, `${file}: cache`) }),
    ...(backends.balancing === undefined
      ? {}
      : { balancing: readBalancing(backends.balancing, `${file}: backends.balancing`) }),
    ...(backends.balancingByAddress === undefined
      ? {}
      : {
          balancingByAddress: readBalancingByAddress(
            backends.balancingByAddress,
            `${file}: backends.balancingByAddress`,
          ),
        }),
    ...(o.metrics === undefined ? {} : { metrics: readMetricsConfig(o.metrics, `${file}: metrics`) }),
    ...(o.tracing === undefined ? {} : { tracing: readTracingConfig(o.tracing, `${file}: tracing`) }),
    ...(o.accessLog === undefined
      ? {}
      : { accessLog: readAccessLogConfig(o.accessLog, `${file}: accessLog`) }),
  } as GatewayOptions;
}

/** `backends.tls: { ca, cert, key }`: PEM files, relative to the config file, read now. */
function readBackendTls(o: Record<string, string>, base: string, where: string): BackendTls {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const k of ["ca", "cert", "key"] as const) {
    const path = o[k];
    if (path === undefined) continue;
    try {
      out[k] = readFileSync(resolve(base, path));
    } catch (err) {
      throw new LoadError("CONFIG_INVALID", `${where}.${k}`, (err as Error).message, { cause: err });
    }
  }
  return out; // checked (PEM, cert with key) where the channels are built
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : ([] as string[]).concat(v);

/** `backends.retryBudget`, `backends.circuitBreaker` and the per-address `backends.circuitBreakers`. */
function readResilience(backends: NonNullable<ConfigEntry["backends"]>, where: string) {
  const breaker =
    backends.circuitBreaker === undefined
      ? undefined
      : readCircuitBreaker(backends.circuitBreaker, `${where}.circuitBreaker`);
  const perAddress = Object.entries(backends.circuitBreakers ?? {}).map(([address, v]) => [
    address,
    readCircuitBreaker(v, `${where}.circuitBreakers.${address}`, breaker),
  ]);
  return {
    ...(backends.retryBudget === undefined
      ? {}
      : { retryBudget: readRetryBudget(backends.retryBudget, `${where}.retryBudget`) }),
    ...(breaker ? { circuitBreaker: breaker } : {}),
    ...(perAddress.length > 0 ? { circuitBreakers: Object.fromEntries(perAddress) } : {}),
  };
}
