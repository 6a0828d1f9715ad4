import { type JsonSchema, object, size, text } from "./schema-kit.js";

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
});
