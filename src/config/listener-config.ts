import { resolve } from "node:path";
import { parseDurationMs, parseSizeBytes } from "../config/duration.js";
import { LoadError } from "../config/load-error.js";

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

/** The listener keys of `server:` as the config schema (config/server-schema.ts) guarantees them. */
export interface ListenerEntry {
  requestTimeout?: string | number;
  headersTimeout?: string | number;
  keepAliveTimeout?: string | number;
  maxConnections?: number;
  tls?: { cert: string; key: string };
  http2?: boolean | "h2c";
  compression?: boolean | { threshold?: string | number; encodings?: CompressionConfig["encodings"] };
}

/**
 * The listener keys of the config file's `server:` block (requestTimeout, headersTimeout,
 * keepAliveTimeout, maxConnections, tls, http2, compression), checked by the schema, as GatewayOptions
 * fields. Paths are relative to `base`. Throws LoadError(CONFIG_INVALID) for combinations that cannot work.
 */
export function readListenerKeys(server: ListenerEntry, base: string, where: string) {
  const ms = (v: string | number | undefined) => (v === undefined ? undefined : parseDurationMs(v));
  const c = server.compression;
  const options = {
    requestTimeoutMs: ms(server.requestTimeout),
    headersTimeoutMs: ms(server.headersTimeout),
    keepAliveTimeoutMs: ms(server.keepAliveTimeout),
    maxConnections: server.maxConnections,
    ...(server.tls
      ? { tls: { cert: resolve(base, server.tls.cert), key: resolve(base, server.tls.key) } }
      : {}),
    ...(server.http2 === undefined ? {} : { http2: server.http2 }),
    ...(c === undefined || c === false
      ? {}
      : {
          compression:
            c === true
              ? {}
              : {
                  ...(c.threshold === undefined ? {} : { threshold: parseSizeBytes(c.threshold) }),
                  ...(c.encodings ? { encodings: c.encodings } : {}),
                },
        }),
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
