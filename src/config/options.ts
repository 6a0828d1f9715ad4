import type { AuthConfig } from "../policies/auth/config.js";
import type { CorsConfig } from "../policies/cors.js";
import type { IpFilterConfig } from "../policies/ip-filter.js";
import type { RateLimitConfig } from "../policies/rate-limit/config.js";
import type { JsonSettings, RouteSettings } from "../routing/route.js";
import type { AmqpConfig } from "../upstream/amqp/config.js";
import type { BackendTls } from "../upstream/grpc/channel.js";
import type { CompressionConfig, ServerTls } from "./listener-config.js";
import type { AccessLogConfig, MetricsConfig, TracingConfig } from "./observability.js";

/** Everything createGateway() takes. The CLI and the config file both produce one of these. */
export interface GatewayOptions {
  /** Directories of .proto files (imports resolve against them, then the built-in google protos). */
  readonly protos: readonly string[];
  /** Compiled descriptor sets (`buf build -o x.binpb`, `protoc --include_imports -o x.binpb`). */
  readonly descriptorSets?: readonly string[];
  /**
   * Backends to discover services from by gRPC server reflection; the services found are routed to the
   * backend that reflected them unless `backends` says otherwise.
   */
  readonly reflect?: readonly string[];
  /** How often reflected descriptors are fetched again, ms (default 30 s; also on every reconnect). */
  readonly reflectionRefreshMs?: number;
  /** Directory of YAML mapping files (extra HTTP rules, backends, per-method settings). */
  readonly mappings?: string | undefined;
  /** Backend of every service without its own entry. */
  readonly defaultBackend?: string | undefined;
  /** Backends by full service name ("bookstore.v1.Bookstore"). */
  readonly backends?: Readonly<Record<string, string>>;
  /**
   * For `tls://` backends (calls and reflection): PEM texts of the CA to trust instead of the system
   * roots, and of a client certificate and its key (mutual TLS). Read once at start.
   */
  readonly backendTls?: BackendTls;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /**
   * The gateway's own endpoints (`/_protogate/*`: status, routes, live, ready) on a listener of their
   * own instead of the public port, so that route tables and reload errors stay off the internet.
   */
  readonly admin?: { readonly host?: string; readonly port: number };
  /** Largest request body accepted, bytes; larger is a 413. */
  readonly bodyLimit?: number;
  /** Bind methods without a google.api.http rule as POST /pkg.Service/Method (default true). */
  readonly autoMapping?: boolean;
  /** Defaults of every route; mapping files override them per method. */
  readonly routeDefaults?: Partial<Omit<RouteSettings, "json">> & { json?: Partial<JsonSettings> };
  /** Per-method overrides, keyed by "pkg.Service.Method". */
  readonly methodSettings?: Readonly<Record<string, MethodSettings>>;
  /** `info.title` and `info.version` of the OpenAPI document at /openapi.json. */
  readonly apiTitle?: string;
  readonly apiVersion?: string;
  /** Watch the proto and mapping directories and reload on change (the CLI's default; off here). */
  readonly watch?: boolean;
  /**
   * How long close() lets requests in flight finish before cutting connections, ms (default 30 s;
   * config `server.shutdown.drainTimeout`).
   */
  readonly shutdownGraceMs?: number;
  /**
   * On SIGTERM (shutdown()), how long readiness answers 503 before the listener closes, ms (default 5 s;
   * config `server.shutdown.delay`): the load balancer's health check sees it and stops sending.
   */
  readonly shutdownDelayMs?: number;
  /** JWT providers and the default requirement; per-method requirements go in methodSettings/mappings. */
  readonly auth?: AuthConfig;
  /** CORS: origins (per method: `corsOrigins`), headers, credentials, preflight max age. */
  readonly cors?: CorsConfig;
  /** Client addresses and CIDR ranges to admit or refuse. */
  readonly ipFilter?: IpFilterConfig;
  /** Largest request head (request line and headers) accepted, bytes; larger is a 431. Default 16 KiB. */
  readonly maxHeaderSize?: number;
  /** Whole request (head and body) must arrive within this, ms; else 408 (default 30 s; 0 for none). */
  readonly requestTimeoutMs?: number;
  /** Request head must arrive within this, ms; else 408 (default 10 s; at most requestTimeoutMs). */
  readonly headersTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this, ms (default 72 s: above load balancers' 60 s). */
  readonly keepAliveTimeoutMs?: number;
  /** Open connections accepted at once on the public port; more are closed at once (default no cap). */
  readonly maxConnections?: number;
  /** HTTPS on the public port: certificate and key PEM files, reloaded when they change. */
  readonly tls?: ServerTls;
  /** HTTP/2: `true` by ALPN beside HTTP/1.1 (needs `tls`), `"h2c"` cleartext HTTP/2 only. */
  readonly http2?: boolean | "h2c";
  /** Compress answers by Accept-Encoding (br, gzip) from a size threshold; off when absent. */
  readonly compression?: CompressionConfig;
  /** RabbitMQ brokers and operations, for methods bound to AMQP in mapping files. */
  readonly amqp?: AmqpConfig;
  /** Rate limiting: store (memory or Redis), failure mode, default limits. */
  readonly rateLimit?: RateLimitConfig;
  /** Trust X-Forwarded-For for the client IP (Fastify's trustProxy): true, or the proxies' addresses (CIDRs). */
  readonly trustProxy?: boolean | string | string[];
  /** Fastify/pino logger level, or false for none. */
  readonly logLevel?: string | false;
  /** Prometheus metrics at `GET /metrics` (admin listener if any); on unless `enabled: false`. */
  readonly metrics?: MetricsConfig;
  /** OpenTelemetry traces over OTLP; off unless `enabled: true` (OTEL_* variables fill the rest). */
  readonly tracing?: TracingConfig;
  /** One JSON line per request at info; on unless `enabled: false`; `sampleRatio` keeps a share. */
  readonly accessLog?: AccessLogConfig;
}

export type MethodSettings = Partial<Omit<RouteSettings, "json">> & { json?: Partial<JsonSettings> };

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  bodyLimit: 1024 * 1024,
  shutdownGraceMs: 30_000,
  shutdownDelayMs: 5_000,
  maxHeaderSize: 16 * 1024,
  route: {
    timeoutMs: 30_000,
    unknownQueryParameters: "ignore",
    json: { emitUnpopulated: false, useProtoNames: false, enumsAsNumbers: false, ignoreUnknownFields: false },
  } satisfies RouteSettings,
} as const;

export function mergeSettings(base: RouteSettings, over: MethodSettings | undefined): RouteSettings {
  if (!over) return base;
  // Keys are the core's and whatever policies and interceptors declare: a key set to undefined keeps the base.
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = v;
  out.json = { ...base.json, ...over.json };
  return out as unknown as RouteSettings;
}
