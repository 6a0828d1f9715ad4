import type { IncomingHttpHeaders } from "node:http";
import { parse as parseCookie } from "cookie";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  exportJWK,
  importJWK,
  importSPKI,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { AuthConfig, ProviderConfig } from "./config.js";

/** A verified token. */
export interface Identity {
  readonly provider: ProviderConfig;
  readonly claims: JWTPayload;
}

/**
 * One string per principal, the issuer and the subject: what owns an AMQP operation. Undefined
 * without a `sub` claim (such a token names no one in particular).
 */
export function ownerOf(identity: Identity | undefined): string | undefined {
  const sub = identity?.claims.sub;
  return identity && typeof sub === "string" && sub !== "" ? `${identity.provider.issuer} ${sub}` : undefined;
}

interface Provider {
  readonly config: ProviderConfig;
  readonly keys: JWTVerifyGetKey;
}

/**
 * Verifies bearer tokens with jose. Keys come from a JWKS URL (cached for jwksCacheMaxAge; a token whose
 * `kid` is unknown triggers a refetch, at most once per jwksCooldown, so rotated keys are picked up
 * without a restart) or from static keys. The provider is chosen by the token's `iss`.
 */
export class Authenticator {
  /**
   * Tokens already verified: signature checks cost more than the rest of a request. An entry lasts until
   * the token's `exp`, and never longer than the provider's key cache (jwksCacheMaxAge), so a token is
   * trusted no longer than the key that signed it. Bounded; the oldest entries go first.
   */
  private readonly verified = new Map<string, { identity: Identity; until: number }>();
  private static readonly MAX_CACHED = 10_000;

  private constructor(private readonly providers: ReadonlyMap<string, Provider>) {}

  static async create(config: AuthConfig): Promise<Authenticator> {
    const providers = new Map<string, Provider>();
    for (const p of config.providers) {
      const keys = p.jwksUri
        ? createRemoteJWKSet(new URL(p.jwksUri), {
            cacheMaxAge: p.jwksCacheMs,
            cooldownDuration: p.jwksCooldownMs,
          })
        : staticKeys(await Promise.all((p.keys ?? []).map((k) => toJwk(k, p.algorithms))));
      providers.set(p.issuer, { config: p, keys });
    }
    return new Authenticator(providers);
  }

  get enabled(): boolean {
    return this.providers.size > 0;
  }

  /** The token from the first configured source that has one. */
  token(headers: IncomingHttpHeaders): string | undefined {
    for (const { config } of this.providers.values()) {
      for (const source of config.from) {
        const value =
          "cookie" in source
            ? cookie(headers.cookie, source.cookie)
            : header(headers, source.header, source.prefix);
        if (value) return value;
      }
    }
    return undefined;
  }

  /** Verifies signature, issuer, audience, expiry (with clock skew) and algorithm; throws 401 otherwise. */
  async verify(token: string): Promise<Identity> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.until > Date.now()) return hit.identity;
      this.verified.delete(token);
    }
    const identity = await this.verifyUncached(token);
    const exp =
      typeof identity.claims.exp === "number" ? identity.claims.exp * 1000 : Number.POSITIVE_INFINITY;
    this.verified.set(token, { identity, until: Math.min(exp, Date.now() + identity.provider.jwksCacheMs) });
    if (this.verified.size > Authenticator.MAX_CACHED)
      this.verified.delete(this.verified.keys().next().value!);
    return identity;
  }

  private async verifyUncached(token: string): Promise<Identity> {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw unauthenticated("the token is not a JWT");
    }
    const provider = issuer === undefined ? undefined : this.providers.get(issuer);
    if (!provider) throw unauthenticated("the token's issuer is not trusted");
    const c = provider.config;
    try {
      const { payload } = await jwtVerify(token, provider.keys, {
        issuer: c.issuer,
        ...(c.audiences.length > 0 ? { audience: [...c.audiences] } : {}),
        algorithms: [...c.algorithms],
        clockTolerance: c.clockSkewSec,
      });
      return { provider: c, claims: payload };
    } catch (err) {
      throw unauthenticated(describe(err));
    }
  }
}

/** RFC 6750: a 401 says why in WWW-Authenticate. */
export function unauthenticated(description: string): GatewayError {
  const challenge = `Bearer realm="protogate", error="invalid_token", error_description="${description.replace(/["\\]/g, "")}"`;
  return new GatewayError(Code.UNAUTHENTICATED, `unauthenticated: ${description}`, {
    headers: { "www-authenticate": challenge },
  });
}

export function missingToken(): GatewayError {
  return new GatewayError(Code.UNAUTHENTICATED, "unauthenticated: this route needs a bearer token", {
    headers: { "www-authenticate": 'Bearer realm="protogate"' },
  });
}

function describe(err: unknown): string {
  switch ((err as { code?: string }).code) {
    case "ERR_JWT_EXPIRED":
      return "the token has expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return `the token's ${(err as { claim?: string }).claim ?? "claims"} claim is not valid here`;
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "the token's signature is not valid";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "the token's algorithm is not allowed";
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "no key matches the token (unknown kid)";
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JOSE_GENERIC":
      return "the signing keys could not be fetched";
    default:
      return "the token is not valid";
  }
}

function header(headers: IncomingHttpHeaders, name: string, prefix: string): string | undefined {
  const v = headers[name];
  const value = Array.isArray(v) ? v[0] : v;
  if (!value) return undefined;
  if (!prefix) return value.trim() || undefined;
  return value.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()
    ? value.slice(prefix.length).trim() || undefined
    : undefined;
}

/** RFC 6265 cookie value by name; one that does not percent-decode (`session=%`) is no token, not a 500. */
function cookie(header: string | undefined, name: string): string | undefined {
  return header ? parseCookie(header, { decode: strictDecode })[name] || undefined : undefined;
}

function strictDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Keys from the config: chosen by `kid` when the token names one the keys have, else among the keys
 * without a kid (a PEM has none) by key type, so that a token's arbitrary kid does not lock it out.
 */
function staticKeys(jwks: JWK[]): JWTVerifyGetKey {
  const withKid = createLocalJWKSet({ keys: jwks.filter((k) => k.kid) });
  const anonymous = jwks.filter((k) => !k.kid);
  return async (header, token) => {
    if (header.kid && jwks.some((k) => k.kid === header.kid)) return withKid(header, token);
    const kty = header.alg?.startsWith("ES") ? "EC" : header.alg?.startsWith("Ed") ? "OKP" : "RSA";
    const key = anonymous.find((k) => k.kty === kty);
    if (!key) throw Object.assign(new Error("no key matches"), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    return importJWK(key, header.alg);
  };
}

/** A static key as a JWK (PEM public keys are imported with the first allowed algorithm that fits). */
async function toJwk(
  key: { pem?: string; jwk?: Record<string, unknown> },
  algorithms: readonly string[],
): Promise<JWK> {
  if (key.jwk) return key.jwk as JWK;
  for (const alg of algorithms) {
    try {
      return await exportJWK(await importSPKI(key.pem!, alg, { extractable: true }));
    } catch {
      // not this algorithm's key type
    }
  }
  throw new Error(`a PEM key fits none of the algorithms ${algorithms.join(", ")}`);
}
