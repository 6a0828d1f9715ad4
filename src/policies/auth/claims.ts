import type { Identity } from "./authenticator.js";

/** The identity's forwarded claims as metadata key -> printable text (for gRPC metadata and AMQP headers). */
export function claimValues(identity: Identity | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!identity) return out;
  for (const [claim, key] of Object.entries(identity.provider.forwardClaims)) {
    const v = identity.claims[claim];
    if (v === undefined || v === null) continue;
    const text = Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v);
    if (/^[\x20-\x7e]*$/.test(text)) out[key] = text;
  }
  return out;
}
