import { bool, duration, type JsonSchema, object, oneOrMany, text } from "../config/schema-kit.js";

/** JSON Schema fragments of the config file's `cors:` and of a method's `corsOrigins`. */

const origin: JsonSchema = {
  description: 'An origin: scheme://host[:port], "*" for any, or scheme://*.domain for its subdomains.',
  type: "string",
  pattern: "^(\\*|https?://(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]+)?)$",
  errorMessage: '{value} is not an origin (scheme://host[:port], "*" or scheme://*.domain)',
};

/** Allowed origins (the gateway's, or a method's own). */
export const corsOriginsSchema: JsonSchema = oneOrMany("Origins allowed to call (CORS).", origin);

const strings = (description: string, dflt: string[]) =>
  oneOrMany(description, text("A header name."), { default: dflt });

/** The config file's `cors:`. `credentials: true` with origin "*" is refused by the reader. */
export const corsSchema: JsonSchema = object("CORS: preflights answered at the gateway, per-route origins.", {
  origins: { ...corsOriginsSchema, description: "Origins allowed unless a method sets corsOrigins." },
  allowHeaders: strings("Request headers a preflight may ask for (grpc-metadata-* always).", [
    "authorization",
    "content-type",
    "grpc-timeout",
    "x-request-id",
    "x-api-key",
  ]),
  exposeHeaders: strings("Response headers the browser may show to scripts.", [
    "x-request-id",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "www-authenticate",
  ]),
  credentials: bool(
    'Allow cookies and Authorization (Access-Control-Allow-Credentials); not with "*".',
    false,
  ),
  maxAge: duration("How long a browser may cache a preflight answer.", { default: "10m" }),
});
