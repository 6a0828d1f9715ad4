import { authPolicy } from "../policies/auth/policy.js";
import { corsPolicy } from "../policies/cors.js";
import { ipFilterPolicy } from "../policies/ip-filter.js";
import type { PolicyModule } from "../policies/policy.js";
import { rateLimitPolicy } from "../policies/rate-limit/policy.js";

/**
 * The edge policies, in the order their hooks run on every request (each phase in this order):
 *   global:      IP filter (the gateway's own endpoints too)
 *   beforeMatch: CORS preflight
 *   (the route is matched: 404 / 405)
 *   afterMatch:  CORS headers -> auth -> rate limit
 * then the handler reads the body, transcodes and calls the route's interceptor chain
 * (src/interceptors/index.ts) and target. Adding a policy: one module, one line here.
 */
// biome-ignore lint/suspicious/noExplicitAny: each module reads its own config section
export const POLICIES: readonly PolicyModule<any>[] = [
  ipFilterPolicy,
  corsPolicy,
  authPolicy,
  rateLimitPolicy,
];
