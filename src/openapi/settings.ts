import type { Requirement } from "../policies/auth/config.js";
import type { Route } from "../routing/route.js";

/**
 * What the document reads from a route's settings, in one place: the route settings are being
 * restructured (policy settings may move under `route.settings.policies`), and only this file follows.
 */

/** The route's own auth requirement; undefined: the gateway's default (`auth.default`) applies. */
export function routeAuth(route: Route): Requirement | undefined {
  return route.settings.auth;
}
