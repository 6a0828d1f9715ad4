import { parseDurationMs } from "../../config/duration.js";
import { LoadError } from "../../config/load-error.js";
import { asObject, type Obj, onlyKeys, optParsed, optString } from "../../config/validate.js";
import type { AuthOption } from "../../registry/registry.js";

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

export function readAuthConfig(v: unknown, where: string): AuthConfig {
  const o = asObject(v, where);
  onlyKeys(o, ["providers", "default"], where);
  const providers = (Array.isArray(o.providers) ? o.providers : []).map((p, i) =>
    readProvider(p, `${where}.providers[${i}]`),
  );
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

function readProvider(v: unknown, where: string): ProviderConfig {
  const o = asObject(v, where);
  onlyKeys(
    o,
    [
      "name",
      "issuer",
      "audiences",
      "jwksUri",
      "keys",
      "algorithms",
      "clockSkew",
      "jwksCacheMaxAge",
      "jwksCooldown",
      "from",
      "forwardClaims",
    ],
    where,
  );
  const issuer = optString(o, "issuer", where);
  if (!issuer) throw new LoadError("CONFIG_INVALID", `${where}.issuer`, "a provider needs an issuer");
  const jwksUri = optString(o, "jwksUri", where);
  const keys = o.keys === undefined ? undefined : readKeys(o.keys, `${where}.keys`);
  if (!jwksUri === !keys)
    throw new LoadError("CONFIG_INVALID", where, "a provider needs either jwksUri or keys");
  const algorithms = strings(o.algorithms, `${where}.algorithms`) ?? ASYMMETRIC.slice(0, 10);
  for (const a of algorithms) {
    if (!ASYMMETRIC.includes(a)) {
      throw new LoadError(
        "CONFIG_INVALID",
        `${where}.algorithms`,
        `"${a}" is not allowed: only asymmetric algorithms (${ASYMMETRIC.join(", ")}); never none, never HS* with public keys`,
      );
    }
  }
  const ms = (key: string, dflt: number) =>
    optParsed(o, key, where, parseDurationMs, 'a duration such as "30s"') ?? dflt;
  return {
    name: optString(o, "name", where) ?? issuer,
    issuer,
    audiences: strings(o.audiences, `${where}.audiences`) ?? [],
    ...(jwksUri ? { jwksUri } : {}),
    ...(keys ? { keys } : {}),
    algorithms,
    clockSkewSec: ms("clockSkew", 30_000) / 1000,
    jwksCacheMs: ms("jwksCacheMaxAge", 600_000),
    jwksCooldownMs: ms("jwksCooldown", 30_000),
    from:
      o.from === undefined
        ? [{ header: "authorization", prefix: "Bearer " }]
        : readSources(o.from, `${where}.from`),
    forwardClaims: readClaimMap(o.forwardClaims, `${where}.forwardClaims`),
  };
}

function readKeys(v: unknown, where: string): ProviderConfig["keys"] {
  if (!Array.isArray(v) || v.length === 0)
    throw new LoadError("CONFIG_INVALID", where, "expected a list of {pem} or {jwk}");
  return v.map((k, i) => {
    const o = asObject(k, `${where}[${i}]`);
    onlyKeys(o, ["pem", "jwk"], `${where}[${i}]`);
    if (typeof o.pem === "string") return { pem: o.pem };
    if (o.jwk !== undefined) return { jwk: asObject(o.jwk, `${where}[${i}].jwk`) };
    throw new LoadError("CONFIG_INVALID", `${where}[${i}]`, "expected pem or jwk");
  });
}

function readSources(v: unknown, where: string): ProviderConfig["from"] {
  if (!Array.isArray(v))
    throw new LoadError("CONFIG_INVALID", where, "expected a list of {header, prefix} or {cookie}");
  return v.map((s, i) => {
    const o = asObject(s, `${where}[${i}]`);
    onlyKeys(o, ["header", "prefix", "cookie"], `${where}[${i}]`);
    const cookie = optString(o, "cookie", `${where}[${i}]`);
    if (cookie) return { cookie };
    const header = optString(o, "header", `${where}[${i}]`);
    if (!header) throw new LoadError("CONFIG_INVALID", `${where}[${i}]`, "expected header or cookie");
    return { header: header.toLowerCase(), prefix: typeof o.prefix === "string" ? o.prefix : "" };
  });
}

function readClaimMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined) return {};
  const o = asObject(v, where);
  const out: Record<string, string> = {};
  for (const [claim, key] of Object.entries(o)) {
    if (typeof key !== "string" || !/^[0-9a-z_.-]+$/.test(key) || key.startsWith("grpc-")) {
      throw new LoadError(
        "CONFIG_INVALID",
        `${where}.${claim}`,
        "expected a lower-case gRPC metadata key (not grpc-*)",
      );
    }
    out[claim] = key;
  }
  return out;
}

export function readRequirement(v: unknown, where: string): Requirement {
  if (v === "public" || v === "authenticated") return { require: v };
  const o: Obj = asObject(v, where);
  onlyKeys(o, ["require", "scopes", "claims"], where);
  const require = o.require ?? "authenticated";
  if (require !== "public" && require !== "authenticated") {
    throw new LoadError("CONFIG_INVALID", `${where}.require`, 'expected "public" or "authenticated"');
  }
  let scopes: Requirement["scopes"];
  if (o.scopes !== undefined) {
    const s = asObject(o.scopes, `${where}.scopes`);
    onlyKeys(s, ["anyOf", "allOf"], `${where}.scopes`);
    scopes = {
      anyOf: strings(s.anyOf, `${where}.scopes.anyOf`),
      allOf: strings(s.allOf, `${where}.scopes.allOf`),
    };
  }
  let claims: Record<string, string[]> | undefined;
  if (o.claims !== undefined) {
    claims = {};
    for (const [k, want] of Object.entries(asObject(o.claims, `${where}.claims`))) {
      claims[k] = typeof want === "string" ? [want] : (strings(want, `${where}.claims.${k}`) ?? []);
    }
  }
  if (require === "public" && (scopes || claims)) {
    throw new LoadError("CONFIG_INVALID", where, "scopes and claims need require: authenticated");
  }
  return { require, ...(scopes ? { scopes } : {}), ...(claims ? { claims } : {}) };
}

function strings(v: unknown, where: string): string[] | undefined {
  if (v === undefined) return undefined;
  const list = ([] as unknown[]).concat(v);
  if (!list.every((x) => typeof x === "string" && x !== ""))
    throw new LoadError("CONFIG_INVALID", where, "expected a list of strings");
  return list as string[];
}

/** A method's (protogate.v1.auth) option as a Requirement. */
export function requirementFromOption(opt: AuthOption): Requirement {
  if (opt.public) return { require: "public" };
  const many = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : ([] as T[]).concat(v));
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
