import {
  duration,
  ifThenElse,
  type JsonSchema,
  mapOf,
  object,
  oneOf,
  oneOrMany,
  text,
} from "../../config/schema-kit.js";

/** JSON Schema fragments of the config file's `auth:` section and of a method's `auth` requirement. */

/** Asymmetric algorithms only: HS* with a public key is the classic confusion attack, `none` is never valid. */
export const ASYMMETRIC = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

const strings = (description: string) => oneOrMany(description, text("One entry."));

/** A method's requirement: `public`, `authenticated`, or `{require, scopes, claims}`. */
export const requirementSchema: JsonSchema = {
  description:
    "What a route demands: public, authenticated (any valid token), or {require, scopes, claims}. " +
    "A mapping file's requirement wins over the proto's (protogate.v1.auth).",
  ...ifThenElse(
    { type: "string" },
    oneOf("public (no token needed) or authenticated (any valid token).", ["public", "authenticated"]),
    object("A requirement with scopes or claims.", {
      require: oneOf(
        "public or authenticated; scopes and claims need authenticated.",
        ["public", "authenticated"],
        "authenticated",
      ),
      scopes: object("Scopes from the token's scope or scp claim.", {
        anyOf: strings("The token needs one of these scopes."),
        allOf: strings("The token needs every one of these scopes."),
      }),
      claims: mapOf(
        "Claim name -> accepted values (a claim that is a list matches if it holds any of them).",
        oneOrMany("Accepted values.", text("An accepted value.")),
      ),
    }),
  ),
};

const provider = object(
  "A JWT issuer; a token is checked by the provider its iss names.",
  {
    name: text("Name in logs and metrics (default: the issuer)."),
    issuer: text("The token's iss must equal this."),
    audiences: strings("The token's aud must contain one of these; none: aud is not checked."),
    jwksUri: text("URL of the issuer's JWKS (cached, refreshed, re-fetched for an unknown kid). Or keys."),
    keys: {
      description: "Static keys instead of jwksUri.",
      type: "array",
      minItems: 1,
      items: object(
        "A PEM public key or a JWK.",
        {
          pem: text("A PEM public key (SPKI)."),
          jwk: { description: "A public JWK.", type: "object" },
        },
        { minProperties: 1, errorMessage: { minProperties: "expected pem or jwk" } },
      ),
    },
    algorithms: oneOrMany(
      "Accepted algorithms (asymmetric only).",
      {
        description: "An asymmetric JWS algorithm.",
        type: "string",
        enum: ASYMMETRIC,
        errorMessage: `{value} is not allowed: only asymmetric algorithms (${ASYMMETRIC.join(", ")}); never none, never HS* with public keys`,
      },
      { default: ASYMMETRIC.slice(0, 10) },
    ),
    clockSkew: duration("Tolerance on exp and nbf.", { default: "30s" }),
    jwksCacheMaxAge: duration("How long fetched keys are trusted before a refresh.", { default: "10m" }),
    jwksCooldown: duration("After a fetch, how long an unknown kid waits before it may trigger another.", {
      default: "30s",
    }),
    from: {
      description: "Where the token is read from, in order (default: Authorization: Bearer).",
      type: "array",
      items: object(
        "A header (with the prefix before the token) or a cookie.",
        {
          header: text("Header name."),
          prefix: { description: 'Text before the token ("Bearer ").', type: "string", default: "" },
          cookie: text("Cookie name."),
        },
        {
          anyOf: [{ required: ["header"] }, { required: ["cookie"] }],
          errorMessage: { anyOf: "expected header or cookie" },
        },
      ),
    },
    forwardClaims: mapOf("Claims sent to backends as gRPC metadata: claim name -> metadata key.", {
      description: "A lower-case gRPC metadata key.",
      type: "string",
      pattern: "^(?!grpc-)[0-9a-z_.-]+$",
      errorMessage: "expected a lower-case gRPC metadata key (not grpc-*)",
    }),
  },
  { required: ["issuer"], errorMessage: { required: "a provider needs an issuer" } },
);

/** The config file's `auth:`. A provider needs exactly one of jwksUri and keys (checked by the reader). */
export const authSchema: JsonSchema = object("JWT providers and the default requirement.", {
  providers: { description: "JWT issuers.", type: "array", items: provider },
  default: {
    ...requirementSchema,
    description: "The requirement of routes without their own.",
    default: "public",
  },
});
