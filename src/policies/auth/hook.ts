import type { FastifyRequest } from "fastify";
import { authDecisions } from "../../observability/metrics.js";
import { type Authenticator, missingToken } from "./authenticator.js";
import { claimValues } from "./claims.js";
import type { Requirement } from "./config.js";
import { authorize } from "./requirement.js";

/**
 * onRequest, after the route is known and before the body is read: the route's requirement (or the
 * gateway's default) decides. Public routes still verify a token that comes along, so that backends see
 * who calls when someone does; a bad token there is ignored rather than refused.
 */
export function authenticate(authenticator: Authenticator, fallback: Requirement) {
  return async function auth(req: FastifyRequest): Promise<void> {
    const state = req.gateway!;
    const requirement = state.match.route.settings.auth ?? fallback;
    const token = authenticator.token(req.headers);
    if (requirement.require === "public") {
      if (token) state.identity = await authenticator.verify(token).catch(() => undefined);
      if (state.identity) state.claims = claimValues(state.identity);
      authDecisions.inc({ outcome: state.identity ? "authenticated" : "anonymous" });
      return;
    }
    try {
      if (!token) throw missingToken();
      state.identity = await authenticator.verify(token);
      authorize(requirement, state.identity.claims);
    } catch (err) {
      authDecisions.inc({ outcome: "rejected" });
      throw err;
    }
    authDecisions.inc({ outcome: "authenticated" });
    state.claims = claimValues(state.identity);
  };
}
