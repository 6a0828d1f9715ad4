import type { Requirement } from "../policies/auth/config.js";

/**
 * Auth requirements as OpenAPI security: one HTTP bearer (JWT) scheme, and per operation the scopes the
 * route requires (src/policies/auth/requirement.ts `authorize`). OpenAPI ORs the objects of a `security`
 * list and ANDs the scopes within one (OAS 3.1 "Security Requirement Object"; scopes of a non-OAuth scheme
 * are allowed there as role names), so `anyOf: [a, b], allOf: [c]` is `[{bearer: [a, c]}, {bearer: [b, c]}]`.
 */
export const BEARER = "bearerAuth";

export const BEARER_SCHEME = {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description:
    "A JWT from one of the configured providers, as `Authorization: Bearer <token>`; scopes are read from " +
    "the token's `scope` (space-separated) or `scp` claim.",
};

export type SecurityRequirement = Record<string, string[]>;

/** The `security` list of a route; undefined for a public route (no requirement). */
export function securityOf(req: Requirement): SecurityRequirement[] | undefined {
  if (req.require === "public") return undefined;
  const allOf = [...(req.scopes?.allOf ?? [])];
  const anyOf = req.scopes?.anyOf ?? [];
  // An empty anyOf demands nothing (authorize skips it).
  if (anyOf.length === 0) return [{ [BEARER]: allOf }];
  return anyOf.map((s) => ({ [BEARER]: allOf.includes(s) ? allOf : [s, ...allOf] }));
}

/** What OpenAPI cannot say about a requirement (claim values), for the operation's description. */
export function claimsNote(req: Requirement): string | undefined {
  const claims = Object.entries(req.claims ?? {});
  if (req.require === "public" || claims.length === 0) return undefined;
  const each = claims.map(([name, values]) => `\`${name}\` one of ${values.map((v) => `"${v}"`).join(", ")}`);
  return `The token's claims must have ${each.join("; ")} (403 otherwise).`;
}
