import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { checkShape } from "../../config/schema-check.js";
import type { AuthOption } from "../../registry/registry.js";
import { ASYMMETRIC, authSchema, requirementSchema } from "./schema.js";

/** JWT providers and the default requirement (config file `auth:`). */
export interface AuthConfig {
  readonly providers: readonly ProviderConfig[];
  /** For routes whose method sets no requirement. */
  readonly default: Requirement;
}

export interface ProviderConfig {
  readonly name: string;
  readonly issuer: string;
  /** The token's `aud` must contain one of these; empty: not checked. */
  readonly audiences: readonly string[];
  /** Keys from a JWKS URL, or static keys (PEM public keys or JWKs). */
  readonly jwksUri?: string;
  readonly keys?: ReadonlyArray<{ readonly pem?: string; readonly jwk?: Record<string, unknown> }>;
  readonly algorithms: readonly string[];
  readonly clockSkewSec: number;
  /** How long fetched keys are trusted before a refresh (jose's cacheMaxAge). */
  readonly jwksCacheMs: number;
  /** After a fetch, how long an unknown `kid` waits before it may trigger another. */
  readonly jwksCooldownMs: number;
  /** Where the token is read from, in order. */
  readonly from: ReadonlyArray<
    { readonly header: string; readonly prefix: string } | { readonly cookie: string }
  >;
  /** Claims sent to backends as gRPC metadata: claim name -> metadata key. */
  readonly forwardClaims: Readonly<Record<string, string>>;
}

/** What a route demands: nothing, any valid token, scopes, claim values. */
export interface Requirement {
  readonly require: "public" | "authenticated";
  readonly scopes?: { readonly anyOf?: readonly string[]; readonly allOf?: readonly string[] };
  /** Claim name -> accepted values (a claim that is an array matches if it holds any of them). */
  readonly claims?: Readonly<Record<string, readonly string[]>>;
}

export { ASYMMETRIC } from "./schema.js";

type Strings = string | string[];
interface ProviderEntry {
  name?: string;
  issuer: string;
  audiences?: Strings;
  jwksUri?: string;
  keys?: Array<{ pem?: string; jwk?: Record<string, unknown> }>;
  algorithms?: Strings;
  clockSkew?: string | number;
  jwksCacheMaxAge?: string | number;
  jwksCooldown?: string | number;
  from?: Array<{ header?: string; prefix?: string; cookie?: string }>;
  forwardClaims?: Record<string, string>;
}
type RequirementEntry =
  | "public"
  | "authenticated"
  | {
      require?: Requirement["require"];
      scopes?: { anyOf?: Strings; allOf?: Strings };
      claims?: Record<string, Strings>;
    };

/** Reads the config file's `auth:` (shape: authSchema); throws LoadError CONFIG_INVALID naming `where`. */
export function readAuthConfig(v: unknown, where: string): AuthConfig {
  const o = checkShape<{ providers?: ProviderEntry[]; default?: RequirementEntry }>(authSchema, v, where);
  const providers = (o.providers ?? []).map((p, i) => readProvider(p, `${where}.providers[${i}]`));
  const names = new Set<string>();
  for (const p of providers) {
    if (names.has(p.name)) throw new LoadError("CONFIG_INVALID", where, `two providers named "${p.name}"`);
    names.add(p.name);
  }
  return {
    providers,
    default: o.default === undefined ? { require: "public" } : readRequirement(o.default, `${where}.default`),
  };
}

function readProvider(o: ProviderEntry, where: string): ProviderConfig {
  if (!o.jwksUri === !o.keys)
    throw new LoadError("CONFIG_INVALID", where, "a provider needs either jwksUri or keys");
  const ms = (v: string | number | undefined, dflt: number) => (v === undefined ? dflt : parseDurationMs(v)!);
  return {
    name: o.name ?? o.issuer,
    issuer: o.issuer,
    audiences: many(o.audiences),
    ...(o.jwksUri ? { jwksUri: o.jwksUri } : {}),
    ...(o.keys ? { keys: o.keys.map((k) => (k.pem !== undefined ? { pem: k.pem } : { jwk: k.jwk! })) } : {}),
    algorithms: o.algorithms === undefined ? ASYMMETRIC.slice(0, 10) : many(o.algorithms),
    clockSkewSec: ms(o.clockSkew, 30_000) / 1000,
    jwksCacheMs: ms(o.jwksCacheMaxAge, 600_000),
    jwksCooldownMs: ms(o.jwksCooldown, 30_000),
    from: (o.from ?? [{ header: "authorization", prefix: "Bearer " }]).map((s) =>
      s.cookie ? { cookie: s.cookie } : { header: s.header!.toLowerCase(), prefix: s.prefix ?? "" },
    ),
    forwardClaims: o.forwardClaims ?? {},
  };
}

/** Reads a requirement (shape: requirementSchema); scopes or claims on a public one are a LoadError. */
export function readRequirement(v: unknown, where: string): Requirement {
  const o = checkShape<RequirementEntry>(requirementSchema, v, where);
  if (typeof o === "string") return { require: o };
  const require = o.require ?? "authenticated";
  const scopes = o.scopes && {
    anyOf: o.scopes.anyOf === undefined ? undefined : many(o.scopes.anyOf),
    allOf: o.scopes.allOf === undefined ? undefined : many(o.scopes.allOf),
  };
  const claims = o.claims && Object.fromEntries(Object.entries(o.claims).map(([k, want]) => [k, many(want)]));
  if (require === "public" && (scopes || claims)) {
    throw new LoadError("CONFIG_INVALID", where, "scopes and claims need require: authenticated");
  }
  return { require, ...(scopes ? { scopes } : {}), ...(claims ? { claims } : {}) };
}

const many = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : ([] as T[]).concat(v));

/** A method's (protogate.v1.auth) option as a Requirement. */
export function requirementFromOption(opt: AuthOption): Requirement {
  if (opt.public) return { require: "public" };
  const anyOf = many(opt.any_scopes);
  const allOf = many(opt.all_scopes);
  const claims: Record<string, string[]> = {};
  for (const c of many(opt.claims)) if (c.name) claims[c.name] = many(c.values);
  return {
    require: "authenticated",
    ...(anyOf.length > 0 || allOf.length > 0
      ? { scopes: { ...(anyOf.length ? { anyOf } : {}), ...(allOf.length ? { allOf } : {}) } }
      : {}),
    ...(Object.keys(claims).length > 0 ? { claims } : {}),
  };
}
