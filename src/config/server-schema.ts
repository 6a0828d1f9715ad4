import { duration, ifThenElse, type JsonSchema, object, size, text } from "./schema-kit.js";

/** A TCP port; 0 picks a free one. */
export const portSchema = (description: string): JsonSchema => ({
  description,
  type: "integer",
  minimum: 0,
  maximum: 65535,
  errorMessage: "expected a port number (0 to 65535)",
});

/**
 * The config file's `server:`. A new key is one line in `properties` (with its description and, for
 * durations and sizes, `duration(...)` / `size(...)` from schema-kit), then read in config-file.ts.
 */
export const serverSchema: JsonSchema = object("The public HTTP listener.", {
  host: text("Address to listen on.", { default: "127.0.0.1" }),
  port: { ...portSchema("Port to listen on; 0 picks a free one."), default: 8080 },
  bodyLimit: size("Largest request body accepted; larger is a 413.", { default: "1mb" }),
  maxHeaderSize: size("Largest request head (request line and headers); larger is a 431.", {
    default: "16kb",
  }),
  admin: object(
    "The gateway's own endpoints (/_protogate/*) on a listener of their own instead of the public port.",
    {
      host: text("Address of the admin listener.", { default: "127.0.0.1" }),
      port: portSchema("Admin port."),
    },
    { required: ["port"], errorMessage: { required: "the admin listener needs a port" } },
  ),
  shutdown: object("The SIGTERM sequence (README: Running in production).", {
    delay: duration("Readiness answers 503 this long before the listener closes.", { default: "5s" }),
    drainTimeout: duration("Requests in flight may finish this long; then they are cut, the count logged.", {
      default: "30s",
    }),
  }),
  requestTimeout: duration("The whole request (head and body) must arrive within this; 0 for none.", {
    default: "30s",
  }),
  headersTimeout: duration("The request head must arrive within this (not above requestTimeout).", {
    default: "10s",
  }),
  keepAliveTimeout: duration(
    "Idle keep-alive connections live this long: keep it above the idle timeout of the load balancer in front (60 s on most clouds).",
    { default: "72s" },
  ),
  maxConnections: {
    description: "Open client connections at most; more are refused. Default: no cap.",
    type: "integer",
    minimum: 1,
    errorMessage: "expected a positive integer",
  },
  tls: object(
    "TLS on the public port: PEM files relative to the config file, reloaded when they change.",
    { cert: text("The certificate (chain)."), key: text("Its private key.") },
    { required: ["cert", "key"], errorMessage: { required: "needs both cert and key (PEM files)" } },
  ),
  http2: {
    description: 'HTTP/2: true for h2 by ALPN beside HTTP/1.1 (needs tls), "h2c" for cleartext HTTP/2 only.',
    enum: [true, false, "h2c"],
    default: false,
    errorMessage: 'expected true, false or "h2c"',
  },
  compression: {
    description: "Compress answers by Accept-Encoding: true, or { threshold, encodings }.",
    ...ifThenElse(
      { type: "boolean" },
      { type: "boolean" },
      object("Compression settings.", {
        threshold: size("Smallest body compressed.", { default: "1kb" }),
        encodings: {
          description: "Encodings offered, in order of preference.",
          type: "array",
          minItems: 1,
          items: { enum: ["br", "gzip", "deflate"] },
          default: ["br", "gzip"],
          errorMessage: "expected a list of: br, gzip, deflate",
        },
      }),
    ),
  },
});
