import type { JWTPayload } from "jose";
import { Code } from "../../errors/code.js";
import { GatewayError } from "../../errors/gateway-error.js";
import type { Requirement } from "./config.js";

/** Scopes from `scope` (space-separated, RFC 8693) or `scp` (a list, as some providers send). */
function scopesOf(claims: JWTPayload): Set<string> {
  const out = new Set<string>();
  if (typeof claims.scope === "string") for (const s of claims.scope.split(" ")) if (s) out.add(s);
  const scp: unknown = claims.scp;
  if (Array.isArray(scp)) {
    for (const s of scp) if (typeof s === "string") out.add(s);
  } else if (typeof scp === "string") {
    for (const s of scp.split(" ")) if (s) out.add(s);
  }
  return out;
}

/** 403 unless the verified claims meet the route's scopes and claim values. */
export function authorize(req: Requirement, claims: JWTPayload): void {
  const have = scopesOf(claims);
  const { anyOf, allOf } = req.scopes ?? {};
  if (anyOf && anyOf.length > 0 && !anyOf.some((s) => have.has(s))) throw insufficientScope(anyOf, "one of");
  if (allOf && !allOf.every((s) => have.has(s))) throw insufficientScope(allOf, "all of");
  for (const [name, accepted] of Object.entries(req.claims ?? {})) {
    const value = claims[name];
    const values = Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)];
    if (!values.some((v) => accepted.includes(v))) {
      throw new GatewayError(
        Code.PERMISSION_DENIED,
        `permission denied: claim "${name}" does not allow this route`,
      );
    }
  }
}

function insufficientScope(scopes: readonly string[], how: string): GatewayError {
  return new GatewayError(
    Code.PERMISSION_DENIED,
    `permission denied: needs ${how} the scopes ${scopes.join(", ")}`,
    {
      headers: {
        "www-authenticate": `Bearer realm="protogate", error="insufficient_scope", scope="${scopes.join(" ")}"`,
      },
    },
  );
}
