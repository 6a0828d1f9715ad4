import type { PolicyModule } from "../policy.js";
import { Authenticator } from "./authenticator.js";
import type { AuthConfig, Requirement } from "./config.js";
import { authenticate } from "./hook.js";

declare module "../../routing/route.js" {
  interface RouteSettings {
    /** Who may call this route; undefined: the gateway's default (auth.default). */
    readonly auth?: Requirement | undefined;
  }
}

/**
 * JWT bearer authentication and scope/claim authorization (config `auth:`, per method `auth`), after the
 * route is matched and before the body is read. Verified identities and their forwarded claims are
 * left in `req.gateway` for the handler.
 */
export const authPolicy: PolicyModule<AuthConfig> = {
  name: "auth",
  configKey: "auth",
  async create(config) {
    if (!config) return undefined;
    const authenticator = await Authenticator.create(config);
    return { afterMatch: authenticate(authenticator, config.default) };
  },
};

/** Metadata keys that carry forwarded claims: a client may not set them itself (they are dropped). */
export function claimKeys(config: AuthConfig | undefined): string[] {
  return [...new Set(config?.providers.flatMap((p) => Object.values(p.forwardClaims)) ?? [])];
}
