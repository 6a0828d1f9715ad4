import { resolve } from "node:path";
import { parseDurationMs, parseSizeBytes } from "../config/duration.js";
import { LoadError } from "../config/load-error.js";
import { asObject, type Obj, onlyKeys, optParsed, optString } from "../config/validate.js";

/** `server.tls`: PEM files of the public listener's certificate (chain) and key, reloaded on change. */
export interface ServerTls {
  readonly cert: string;
  readonly key: string;
}

/** `server.compression`: answers of at least `threshold` bytes are compressed by Accept-Encoding. */
export interface CompressionConfig {
  /** Smallest body compressed, bytes (default 1 KiB). */
  readonly threshold?: number;
  /** Encodings offered, in order of preference (default br, gzip). */
  readonly encodings?: readonly ("br" | "gzip" | "deflate")[];
}

export const LISTENER_DEFAULTS = {
  /** Whole request (head and body) must arrive within this; Node's own default is 300 s. */
  requestTimeoutMs: 30_000,
  /** Request head must arrive within this. */
  headersTimeoutMs: 10_000,
  /** Idle keep-alive connections live this long: above the 60 s idle timeout of cloud load balancers. */
  keepAliveTimeoutMs: 72_000,
} as const;

/** The keys of `server:` read here. */
export const LISTENER_KEYS = [
  "requestTimeout",
  "headersTimeout",
  "keepAliveTimeout",
  "maxConnections",
  "tls",
  "http2",
  "compression",
] as const;

const ENCODINGS = ["br", "gzip", "deflate"] as const;
const positiveInt = (v: unknown): number | undefined =>
  Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined;

/**
 * The listener keys of the config file's `server:` block (requestTimeout, headersTimeout,
 * keepAliveTimeout, maxConnections, tls, http2, compression), as GatewayOptions fields. Paths are
 * relative to `base`. Throws LoadError(CONFIG_INVALID) naming the key.
 */
export function readListenerKeys(server: Obj, base: string, where: string) {
  const duration = (key: string) =>
    optParsed(server, key, where, parseDurationMs, 'a duration such as "30s"');
  const tls = server.tls === undefined ? undefined : readTls(server.tls, base, `${where}.tls`);
  const http2 = server.http2;
  if (http2 !== undefined && typeof http2 !== "boolean" && http2 !== "h2c")
    throw new LoadError("CONFIG_INVALID", `${where}.http2`, 'expected true, false or "h2c"');
  const options = {
    requestTimeoutMs: duration("requestTimeout"),
    headersTimeoutMs: duration("headersTimeout"),
    keepAliveTimeoutMs: duration("keepAliveTimeout"),
    maxConnections: optParsed(server, "maxConnections", where, positiveInt, "a positive integer"),
    ...(tls ? { tls } : {}),
    ...(http2 === undefined ? {} : { http2: http2 as boolean | "h2c" }),
    ...(server.compression === undefined
      ? {}
      : { compression: readCompression(server.compression, `${where}.compression`) }),
  };
  checkListenerOptions(options, where);
  return options;
}

/**
 * Combinations Node would refuse or that cannot work: headersTimeout above requestTimeout, HTTP/2 with
 * ALPN without a certificate, h2c with one. Throws LoadError(CONFIG_INVALID).
 */
export function checkListenerOptions(
  o: {
    requestTimeoutMs?: number | undefined;
    headersTimeoutMs?: number | undefined;
    tls?: ServerTls | undefined;
    http2?: boolean | "h2c" | undefined;
  },
  where: string,
): void {
  const request = o.requestTimeoutMs ?? LISTENER_DEFAULTS.requestTimeoutMs;
  const headers = o.headersTimeoutMs ?? LISTENER_DEFAULTS.headersTimeoutMs;
  if (request > 0 && (headers > request || headers === 0))
    throw new LoadError("CONFIG_INVALID", `${where}.headersTimeout`, "must not be above requestTimeout");
  if (o.http2 === true && !o.tls)
    throw new LoadError(
      "CONFIG_INVALID",
      `${where}.http2`,
      'HTTP/2 with ALPN needs server.tls; or use "h2c"',
    );
  if (o.http2 === "h2c" && o.tls)
    throw new LoadError("CONFIG_INVALID", `${where}.http2`, "h2c is cleartext: use true with server.tls");
}

function readTls(v: unknown, base: string, where: string): ServerTls {
  const o = asObject(v, where);
  onlyKeys(o, ["cert", "key"], where);
  const cert = optString(o, "cert", where);
  const key = optString(o, "key", where);
  if (cert === undefined || key === undefined)
    throw new LoadError("CONFIG_INVALID", where, "needs both cert and key (PEM files)");
  return { cert: resolve(base, cert), key: resolve(base, key) };
}

function readCompression(v: unknown, where: string): CompressionConfig | undefined {
  if (v === false) return undefined;
  if (v === true) return {};
  const o = asObject(v, where);
  onlyKeys(o, ["threshold", "encodings"], where);
  const threshold = optParsed(o, "threshold", where, parseSizeBytes, 'a size such as "1kb"');
  const list = o.encodings === undefined ? undefined : ([] as unknown[]).concat(o.encodings);
  if (list && (list.length === 0 || !list.every((e) => ENCODINGS.includes(e as "br"))))
    throw new LoadError(
      "CONFIG_INVALID",
      `${where}.encodings`,
      `expected a list of: ${ENCODINGS.join(", ")}`,
    );
  return {
    ...(threshold === undefined ? {} : { threshold }),
    ...(list ? { encodings: list as CompressionConfig["encodings"] & object } : {}),
  };
}
