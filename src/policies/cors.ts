import type { FastifyReply, FastifyRequest } from "fastify";
import { parseDurationMs } from "../config/duration.js";
import { LoadError } from "../config/load-error.js";
import { checkShape } from "../config/schema-check.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { Route } from "../routing/route.js";
import type { Router } from "../routing/router.js";
import { corsOriginsSchema, corsSchema } from "./cors-schema.js";
import type { PolicyModule } from "./policy.js";

/**
 * CORS at the gateway: preflights (OPTIONS with Access-Control-Request-Method) are answered here, for the
 * route the browser asks about, and never reach a backend; actual requests get the Allow-Origin headers
 * when their origin is allowed. Origins are the gateway's list unless the route's method sets its own.
 */
export interface CorsConfig {
  /** Exact origins, "*" for any, or "https://*.example.com" for subdomains. */
  readonly origins: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly credentials: boolean;
  readonly maxAgeSec: number;
}

const DEFAULT_ALLOW = ["authorization", "content-type", "grpc-timeout", "x-request-id", "x-api-key"];
const DEFAULT_EXPOSE = ["x-request-id", "retry-after", "ratelimit", "ratelimit-policy", "www-authenticate"];

/** Reads the config file's `cors:` (shape: corsSchema); throws LoadError CONFIG_INVALID naming `where`. */
export function readCorsConfig(v: unknown, where: string): CorsConfig {
  const o = checkShape<{
    origins?: string | string[];
    allowHeaders?: string | string[];
    exposeHeaders?: string | string[];
    credentials?: boolean;
    maxAge?: string | number;
  }>(corsSchema, v, where);
  const credentials = o.credentials ?? false;
  const origins = list(o.origins) ?? [];
  if (credentials && origins.includes("*")) {
    throw new LoadError(
      "CONFIG_INVALID",
      where,
      'credentials: true cannot go with origin "*" (browsers refuse it)',
    );
  }
  return {
    origins,
    allowHeaders: list(o.allowHeaders)?.map((h) => h.toLowerCase()) ?? DEFAULT_ALLOW,
    exposeHeaders: list(o.exposeHeaders) ?? DEFAULT_EXPOSE,
    credentials,
    maxAgeSec: Math.round((o.maxAge === undefined ? 600_000 : parseDurationMs(o.maxAge)!) / 1000),
  };
}

/** Reads a method's `corsOrigins` (shape: corsOriginsSchema). */
export function readOrigins(v: unknown, where: string): string[] {
  return list(checkShape<string | string[]>(corsOriginsSchema, v, where)) ?? [];
}

const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : ([] as string[]).concat(v);

function allowed(origins: readonly string[], origin: string): boolean {
  for (const o of origins) {
    if (o === "*" || o === origin) return true;
    if (o.includes("://*.")) {
      const [scheme, rest] = o.split("://*.");
      if (origin.startsWith(`${scheme}://`) && origin.endsWith(`.${rest}`)) return true;
    }
  }
  return false;
}

declare module "../routing/route.js" {
  interface RouteSettings {
    /** Origins allowed to call this route from a browser; undefined: the gateway's (cors.origins). */
    readonly corsOrigins?: readonly string[] | undefined;
  }
}

/** CORS (config `cors:`, per method `corsOrigins`): preflights before matching, headers after. */
export const corsPolicy: PolicyModule<CorsConfig> = {
  name: "cors",
  configKey: "cors",
  create(config, ctx) {
    if (!config) return undefined;
    const cors = new Cors(config, ctx.router);
    return { beforeMatch: cors.preflight, afterMatch: cors.actual };
  },
};

export class Cors {
  constructor(
    private readonly config: CorsConfig,
    private readonly router: () => Router<Route>,
  ) {}

  /** onRequest, before route matching: answers preflights. */
  readonly preflight = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const origin = req.headers.origin;
    const wanted = req.headers["access-control-request-method"];
    if (req.method !== "OPTIONS" || !origin || typeof wanted !== "string") return;
    const url = req.raw.url ?? "/";
    const q = url.indexOf("?");
    const match = this.router().find(wanted.toUpperCase(), q === -1 ? url : url.slice(0, q));
    if (!match) throw new GatewayError(Code.NOT_FOUND, `CORS preflight: no route for ${wanted} ${url}`);
    const origins = match.route.settings.corsOrigins ?? this.config.origins;
    if (!allowed(origins, origin))
      throw new GatewayError(Code.PERMISSION_DENIED, `CORS preflight: origin ${origin} is not allowed`);
    const requested = String(req.headers["access-control-request-headers"] ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const refused = requested.filter(
      (h) => !this.config.allowHeaders.includes(h) && !h.startsWith("grpc-metadata-"),
    );
    if (refused.length > 0)
      throw new GatewayError(
        Code.PERMISSION_DENIED,
        `CORS preflight: headers not allowed: ${refused.join(", ")}`,
      );
    this.originHeaders(reply, origins, origin);
    reply
      .header("access-control-allow-methods", wanted.toUpperCase())
      .header("access-control-allow-headers", requested.join(", ") || this.config.allowHeaders.join(", "))
      .header("access-control-max-age", String(this.config.maxAgeSec))
      .code(204)
      .send();
  };

  /**
   * onRequest, after route matching: the response headers of an actual cross-origin request. A WebSocket
   * upgrade from an origin not allowed is refused with 403 (PERMISSION_DENIED), since no browser checks.
   */
  readonly actual = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const origin = req.headers.origin;
    if (!origin) return;
    const origins = req.gateway!.match.route.settings.corsOrigins ?? this.config.origins;
    if (!allowed(origins, origin)) {
      // Browsers apply no CORS to WebSocket: the server itself refuses a foreign page (RFC 6455 10.2).
      if (String(req.headers.upgrade).toLowerCase() === "websocket")
        throw new GatewayError(Code.PERMISSION_DENIED, `origin ${origin} may not open a WebSocket here`);
      return; // no headers: the browser will refuse to show the answer
    }
    this.originHeaders(reply, origins, origin);
    if (this.config.exposeHeaders.length > 0)
      reply.header("access-control-expose-headers", this.config.exposeHeaders.join(", "));
  };

  private originHeaders(reply: FastifyReply, origins: readonly string[], origin: string): void {
    const any = origins.includes("*") && !this.config.credentials;
    reply.header("access-control-allow-origin", any ? "*" : origin);
    if (!any) reply.header("vary", "Origin");
    if (this.config.credentials) reply.header("access-control-allow-credentials", "true");
  }
}
