import { type JsonSchema, mapOf, object, text } from "../../config/schema-kit.js";

/**
 * JSON Schema fragments of the config file's `backends:` and of the mapping files' `backends:`.
 * Whether an address parses is checked where the routes are built (parseAddress).
 */

const address = text("host:port, or tls://host:port (TLS with backends.tls).");

/** Backends by full service name (config file `backends.services`, mapping files `backends`). */
export const serviceBackendsSchema: JsonSchema = mapOf(
  "Backends by full service name (pkg.Service).",
  address,
);

/** The config file's `backends:`. A cert without its key is refused when the channels are built. */
export const backendsSchema: JsonSchema = object("gRPC backends.", {
  default: { ...address, description: "Backend of every service without its own entry." },
  services: serviceBackendsSchema,
  tls: object(
    "For tls:// backends (calls and reflection): PEM files relative to the config file, read at start.",
    {
      ca: text("CA to trust instead of the system roots."),
      cert: text("A client certificate (mutual TLS), with its key."),
      key: text("The client certificate's key."),
    },
  ),
});
