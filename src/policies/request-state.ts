import type { Route } from "../routing/route.js";
import type { Match } from "../routing/router.js";
import type { Admission } from "../upstream/admission.js";
import type { CallNotes } from "../upstream/call.js";
import type { Identity } from "./auth/authenticator.js";

/** What the edge policies learn about a request before the handler runs (`req.gateway`). */
export interface RequestState {
  /** The route matched in the table in force when the request arrived: a reload never changes a request halfway. */
  readonly match: Match<Route>;
  /** The query string without "?". */
  readonly query: string;
  /** Set by the auth policy when a valid token came with the request. */
  identity: Identity | undefined;
  /** The identity's forwarded claims by metadata key (auth `forwardClaims`); undefined when none. */
  claims: Readonly<Record<string, string>> | undefined;
  /**
   * A check an edge policy deferred to the moment the request goes upstream (the rate limit on a caching
   * route when cache hits are free); the handler hands it on with the call. Undefined: none.
   */
  admission: Admission | undefined;
  /** The upstream call's notes (backend, attempts, outcome, cache status), once the handler made the call. */
  notes: CallNotes | undefined;
}

declare module "fastify" {
  interface FastifyRequest {
    gateway: RequestState | null;
  }
}
