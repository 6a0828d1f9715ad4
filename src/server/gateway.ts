import { METHODS } from "node:http";
import { dirname } from "node:path";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { DEFAULTS, type GatewayOptions } from "../config/options.js";
import { Code } from "../errors/code.js";
import { UpstreamFailure } from "../errors/conceal.js";
import { GatewayError } from "../errors/gateway-error.js";
import { registerCacheRoutes } from "../interceptors/cache/admin.js";
import { StoredEncodings } from "../interceptors/cache/encodings.js";
import { buildInterceptors } from "../interceptors/index.js";
import { compose, composeStream, type Interceptor, isOnDemand } from "../interceptors/interceptor.js";
import { StreamDrain } from "../interceptors/stream-drain.js";
import { registerObservability } from "../observability/register.js";
import { registerOpenApiRoutes } from "../openapi/serve.js";
import { Authenticator } from "../policies/auth/authenticator.js";
import { claimKeys } from "../policies/auth/policy.js";
import type { EdgePolicy, PolicyContext } from "../policies/policy.js";
import { requestId } from "../policies/request-id.js";
import { AmqpBrokers } from "../upstream/amqp/brokers.js";
import { BackendChannels, channelOptions } from "../upstream/grpc/backends.js";
import { ReflectionClients } from "../upstream/grpc/reflection-clients.js";
import { resolveTarget, type Upstreams } from "../upstream/resolve.js";
import { ADMIN_PREFIX, localOnly, registerAdminRoutes, separateAdminApp } from "./admin.js";
import { answerClientError } from "./client-error.js";
import { compressionRules, registerCompression } from "./compression.js";
import { requestHook } from "./edge-hooks.js";
import { sendError, toGatewayError } from "./error-reply.js";
import { GatewayLogController, type GatewayLogger, gatewayLogger } from "./gateway-log.js";
import { makeHandler, type ServedRoute } from "./handler.js";
import { InFlight, PolicySet, pause } from "./lifecycle.js";
import { listenerFactory } from "./listener.js";
import type { LoadedConfig, RouteBinder } from "./load-table.js";
import { registerOperationRoutes } from "./operations-routes.js";
import { POLICIES } from "./pipeline.js";
import { ReflectionSources } from "./reflection-sources.js";
import { type ConfigStatus, Reloader } from "./reloader.js";
import { notUnary } from "./streaming/not-unary.js";
import { routeUpgrades } from "./streaming/websocket-upgrade.js";
import { keepTickShape } from "./tick-shape.js";
import { DirectoryWatcher } from "./watch.js";

const NO_QUERY = Object.freeze({});

/** What GET /_protogate/status shows. */
export type GatewayStatus = ConfigStatus & {
  readonly rateLimitStoreFailures: number;
  /** Each edge policy's own status (counters, stores), by module name. */
  readonly policies: Readonly<Record<string, Record<string, unknown>>>;
  /** Each state store (rate limit, AMQP operations) and whether instances share it (in Redis). */
  readonly stores: Readonly<Record<string, { readonly shared: boolean }>>;
  /** Each interceptor's own status (circuit breakers by backend...), by name. */
  readonly interceptors: Readonly<Record<string, Record<string, unknown>>>;
  /** Each gRPC backend address's endpoints: connection, ejection, health (BackendChannels.status). */
  readonly backends: Readonly<Record<string, unknown>>;
  /** With compression on: compressed forms of cached answers made so far (one per answer and encoding). */
  readonly compression?: { readonly storedForms: number };
};

export interface Gateway {
  readonly app: FastifyInstance;
  /** The gateway's logger (pino JSON lines on stdout, at `logLevel`); Fastify's `app.log` logs nothing. */
  readonly log: GatewayLogger;
  /** The loaded protos, routes and backends in force. */
  readonly config: () => LoadedConfig;
  /** Recompiles protos and mappings and swaps them in if they have no error (also run by the watcher). */
  reload(): boolean;
  status(): GatewayStatus;
  /** The listener of /_protogate/* when `admin` is set (else they are on `app`). */
  readonly admin: FastifyInstance | undefined;
  /** Starts listening (the admin listener first, if any); resolves to the public "http(s)://host:port". */
  listen(): Promise<string>;
  /**
   * Stops accepting, lets requests in flight finish (at most `shutdownGraceMs`, then cuts them and logs
   * how many), closes upstream channels. No readiness delay: that is shutdown()'s.
   */
  close(): Promise<void>;
  /**
   * The SIGTERM sequence (issue #19): `/_protogate/ready` answers 503 at once; after `shutdownDelayMs`
   * (default 5 s) the listener closes and close() drains as above (`shutdownGraceMs`, default 30 s).
   */
  shutdown(): Promise<void>;
  /**
   * Builds everything reloadable from new options beside the running one (edge policies, interceptors,
   * the route table with its backends and per-method settings, protos and mappings) and swaps it in with
   * one assignment; on any error (LoadError, a bad auth provider) closes what it built, logs why, keeps
   * the old and resolves to false. Not reloaded: listen addresses, the admin listener, AMQP brokers,
   * backend TLS, reflection sources, the watched directories.
   */
  reconfigure(options: GatewayOptions): Promise<boolean>;
  /**
   * Registers a function told when the listener closes (shutdown() or close()), with the time (ms since
   * the epoch) by which requests in flight are cut. The gateway's own streams are ended before it by its
   * stream drain (interceptors/stream-drain.ts): UNAVAILABLE "server shutting down" in their framing.
   */
  onShutdown(listener: (deadline: number) => void): void;
}

/** Builds a gateway from options. Throws LoadError if protos, rules or mappings are wrong. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  void keepTickShape(); // Node 20: keeps nextTick's literal fast (tick-shape.ts)
  const log = gatewayLogger(options.logLevel);
  const channels = new BackendChannels(
    channelOptions(options.backendTls),
    options.balancing,
    options.balancingByAddress,
  );
  const reflectionClients = new ReflectionClients(options.backendTls);
  const publicListener = listenerFactory(
    { ...options, maxHeaderSize: options.maxHeaderSize ?? DEFAULTS.maxHeaderSize },
    log,
  );
  const inFlight = new InFlight();
  const app = Fastify({
    // No logger in Fastify: the gateway's own (gateway-log.ts) gets Fastify's lines through the log
    // controller. Per-request lines are the access log's job; lines that need the id carry reqId.
    logger: false,
    logController: new GatewayLogController(log),
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // The transcoder reads the raw query string itself (repeated keys, map entries, field paths):
    // Fastify's parse of it into req.query would be work thrown away on every request.
    routerOptions: { maxParamLength: 8192, querystringParser: () => NO_QUERY },
    genReqId: requestId,
    // HTTP/1.1, TLS, HTTP/2; Node enforces the limits and times, its refusals have the Status shape too.
    serverFactory: (handle) => publicListener(inFlight.wrap(handle)),
    clientErrorHandler: answerClientError,
    trustProxy: options.trustProxy ?? false,
    // Errors Fastify raises before any route runs (a malformed URL) get the same Status shape.
    frameworkErrors: (err, _req, reply) => sendError(reply, toGatewayError(err)),
  });
  // Reflection answers before the first load, so that the first route table has reflected services.
  let reload: () => boolean = () => false;
  const reflection = new ReflectionSources(
    options.reflect ?? [],
    reflectionClients,
    () => reload(),
    log,
    options.reflectionRefreshMs,
  );
  await reflection.start();
  // The upstreams and interceptors, built once; each route's chain is bound to them at every load.
  let current: () => LoadedConfig = () => {
    throw new Error("no configuration loaded yet");
  };
  const amqp = options.amqp ? new AmqpBrokers(options.amqp, () => current().registry, log) : undefined;
  const upstreams: Upstreams = { channels, amqp };
  // The interceptors, bound into each route at every load; a reconfigure builds new ones and a new binder.
  const binder =
    (interceptors: readonly Interceptor[]): RouteBinder =>
    (route, where, registry): ServedRoute => {
      const target = resolveTarget(route.method, where, upstreams, registry);
      // Streams are served by src/server/streaming/, through the interceptors' wrapStream.
      if (target.shape === "stream")
        return {
          ...route,
          target: composeStream(interceptors, route, target),
          invoke: notUnary,
          transcodeOnDemand: false,
        };
      const invoke = compose(interceptors, route, target);
      return { ...route, target, invoke, transcodeOnDemand: isOnDemand(invoke) };
    };
  // Open streams, ended before the drain deadline at shutdown; shared by every generation of interceptors.
  const drain = new StreamDrain();
  let interceptors = buildInterceptors(options, { log, drain });
  let reloader: Reloader;
  try {
    reloader = new Reloader(options, reflection.sources, binder(interceptors));
  } catch (err) {
    reflection.close();
    reflectionClients.close();
    await amqp?.close();
    throw err;
  }
  current = reloader.config;
  const router = () => reloader.config().table.router;
  for (const w of reloader.config().table.warnings) log.warn(w);

  if (options.compression) await registerCompression(app, options.compression); // before any route
  // Bodies stay raw: the transcoder parses JSON itself so that every error has the Status shape.
  app.removeAllContentTypeParsers();
  const keepRaw = (_req: unknown, body: Buffer | string, done: (err: null, body: unknown) => void): void =>
    done(null, body);
  // JSON by name as well: Fastify caches the parser it finds for a content type, but not the "*"
  // fallback, which it looks for again (parsing the header) on every request.
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, keepRaw);
  app.addContentTypeParser("*", { parseAs: "buffer" }, keepRaw);
  // NDJSON bodies are client streams: the request stream itself, read line by line as it arrives.
  app.addContentTypeParser("application/x-ndjson", (_req, payload, done) => done(null, payload));
  app.setErrorHandler((err, req, reply) => {
    const gwErr = toGatewayError(err);
    if (gwErr.cause instanceof UpstreamFailure)
      log.warn({ reqId: req.id, code: gwErr.code, cause: gwErr.cause.message }, "upstream failure");
    else if (gwErr.code === Code.INTERNAL) log.error({ err, reqId: req.id }, "internal error");
    return sendError(reply, gwErr);
  });
  // Only reached for URLs the catch-all cannot take (Fastify's router refuses them).
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new GatewayError(Code.NOT_FOUND, `no route for ${req.method} ${req.url}`)),
  );

  // Every HTTP method Node knows goes to the gateway's own router, so that a reload may bring rules
  // with any method (`custom: {kind: "PURGE"}`) without a restart. CONNECT never reaches a route.
  const methods = METHODS.filter((m) => m !== "CONNECT");
  for (const m of methods) if (!app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: true });
  const admin = options.admin ? separateAdminApp() : undefined;
  // Metrics, traces and the access log: their hooks first, so that every request counted in is counted out.
  const observability = registerObservability(
    app,
    admin,
    options,
    () => {
      const s = reloader.status();
      return { generation: s.generation, routes: s.routes, lastReloadFailed: s.lastFailure !== undefined };
    },
    localOnly,
  );
  let draining = false;
  // The edge policies, in their registered order (src/server/pipeline.ts), run by the onRequest hook
  // below (edge-hooks.ts) from the set in force, so that a reconfigure swaps it with one assignment.
  const policyContext = { log, router };
  let policies = await buildPolicies(options, policyContext);
  let routeScope: FastifyInstance | undefined;
  const stages = {
    observe: observability.observe,
    draining: () => draining,
    policies: () => policies,
    router,
    routeScope: () => routeScope,
  };
  app.addHook("onRequest", requestHook(stages));
  await amqp?.start();
  // The cache's stored answers in compressed form, made once per answer and encoding (not per hit).
  const encodings = options.compression
    ? new StoredEncodings(compressionRules(options.compression))
    : undefined;
  let handle = makeHandler(claimKeys(options.auth), encodings);
  const handler = (req: FastifyRequest, reply: FastifyReply) => handle(req, reply);

  // The gateway's own endpoints (admin, docs, operations): outside the scope below, so its hooks do not
  // apply to them.
  const status = (): GatewayStatus => {
    const byName = Object.fromEntries(
      policies.policies.map(({ name, policy }) => [name, policy.status?.() ?? {}]),
    );
    return {
      ...reloader.status(),
      rateLimitStoreFailures: Number(byName.rateLimit?.storeFailures ?? 0),
      policies: byName,
      stores: sharedStores(byName, options),
      interceptors: Object.fromEntries(
        interceptors.filter((i) => i.status).map((i) => [i.name, i.status!()]),
      ),
      backends: channels.status(),
      ...(encodings ? { compression: { storedForms: encodings.made } } : {}),
    };
  };
  registerAdminRoutes(
    admin ?? app,
    reloader,
    status,
    () => amqp?.health() ?? {},
    admin ? undefined : localOnly,
    () => draining,
  );
  registerCacheRoutes(admin ?? app, ADMIN_PREFIX, () => interceptors, admin ? undefined : localOnly);
  registerOpenApiRoutes(app, reloader.config, {
    title: options.apiTitle ?? "protogate",
    version: options.apiVersion ?? "1.0.0",
    auth: options.auth?.default,
    operations: amqp !== undefined,
  });
  // The operations route checks owners with the auth config in force: a reconfigure replaces it.
  let operationsAuth = amqp && options.auth ? await Authenticator.create(options.auth) : undefined;
  if (amqp) registerOperationRoutes(app, amqp, () => operationsAuth, drain);

  // The routes from the protos, in their own scope: the policies' hooks around the route match, all
  // before the body is read; then the handler and the route's call chain.
  app.decorateRequest("gateway", null);
  await app.register(async (scope) => {
    routeScope = scope; // the onRequest hook runs the route stages for the routes of this scope
    scope.route({ method: methods, url: "/", handler });
    scope.route({ method: methods, url: "/*", handler });
  });
  // WebSocket upgrades go through the same hooks and handler as requests (streaming/websocket-upgrade.ts).
  const closeWebSockets = routeUpgrades(app.server, app.routing);

  reload = (): boolean => {
    const result = reloader.reload();
    if (result.ok) {
      log.info(
        `configuration reloaded: generation ${reloader.status().generation}, ${result.config.table.routes.length} routes`,
      );
      for (const w of result.config.table.warnings) log.warn(w);
    } else {
      for (const e of result.errors)
        log.error(`reload failed, the running configuration stays: ${e.message}`);
    }
    return result.ok;
  };
  const watched = [
    ...options.protos,
    ...(options.mappings ? [options.mappings] : []),
    ...(options.descriptorSets ?? []).map((f) => dirname(f)),
  ];
  const watcher = options.watch
    ? new DirectoryWatcher(watched, reload, (err) =>
        log.error(`watching ${watched.join(", ")}: ${err.message}`),
      )
    : undefined;

  const shutdownListeners: Array<(deadline: number) => void> = [];
  const grace = options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    watcher?.close();
    reflection.close();
    const deadline = Date.now() + grace;
    drain.begin(deadline);
    for (const tell of shutdownListeners) tell(deadline);
    // Drain requests in flight, but never longer than the grace period: then cut what is left, and say
    // how many. Keep-alive connections are closed as soon as their last response is out.
    const cut = setTimeout(() => {
      const n = inFlight.count;
      if (n > 0) log.warn(`shutdown: drain time of ${grace} ms is over, cutting ${n} requests in flight`);
      app.server.closeAllConnections();
    }, grace);
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    try {
      // streams (WebSocket ones too, which the listener does not wait for) end by the drain's schedule
      await Promise.all([app.close(), admin?.close(), drain.idle()]);
    } finally {
      clearTimeout(cut);
      clearInterval(sweep);
      drain.endAll(); // none left, unless the closing failed
      drain.close();
      channels.close();
      reflectionClients.close();
      closeWebSockets(); // any session the drain did not end (a failed close)
      await policies.close();
      for (const i of interceptors) await i.close?.();
      await observability.close();
      await amqp?.close();
    }
  };

  return {
    app,
    log,
    config: reloader.config,
    reload,
    status,
    admin,
    onShutdown: (listener) => void shutdownListeners.push(listener),
    close() {
      closing ??= close();
      return closing;
    },
    async shutdown() {
      draining = true;
      const delay = options.shutdownDelayMs ?? DEFAULTS.shutdownDelayMs;
      log.info(`shutdown: not ready; the listener closes in ${delay} ms, then drains for ${grace} ms`);
      await pause(delay);
      closing ??= close();
      await closing;
    },
    async reconfigure(next) {
      let built: { policies: PolicySet; interceptors: Interceptor[] } | undefined;
      try {
        const nextPolicies = await buildPolicies(next, policyContext);
        built = { policies: nextPolicies, interceptors: buildInterceptors(next, { log, drain }) };
        const nextHandle = makeHandler(claimKeys(next.auth), encodings);
        const nextOperationsAuth = amqp && next.auth ? await Authenticator.create(next.auth) : undefined;
        const result = reloader.reconfigure(next, binder(built.interceptors));
        if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("; "));
        // The swap: the route table above, then policies, interceptors and handler, in the same tick.
        const old = { policies, interceptors };
        policies = built.policies;
        interceptors = built.interceptors;
        handle = nextHandle;
        operationsAuth = nextOperationsAuth;
        log.info(
          `configuration file reloaded: generation ${reloader.status().generation}, ${result.config.table.routes.length} routes`,
        );
        await retire(old.policies, old.interceptors);
        return true;
      } catch (err) {
        log.error(`reconfigure failed, the running configuration stays: ${(err as Error).message}`);
        if (built) await retire(built.policies, built.interceptors).catch(() => undefined);
        return false;
      }
    },
    async listen() {
      if (admin && options.admin)
        await admin.listen({ host: options.admin.host ?? DEFAULTS.host, port: options.admin.port });
      const url = await app.listen({
        host: options.host ?? DEFAULTS.host,
        port: options.port ?? DEFAULTS.port,
      });
      return options.tls ? url.replace(/^http:/, "https:") : url; // Fastify names it from its own `https`
    },
  };
}

/** Builds the edge policies the options configure; if one fails, closes those built and throws. */
async function buildPolicies(
  options: GatewayOptions,
  base: Omit<PolicyContext, "cacheHitsAreFree">,
): Promise<PolicySet> {
  const built: Array<{ name: string; policy: EdgePolicy }> = [];
  // The cache's setting, read by the rate limit: hits are free only on routes the cache may answer.
  const free = options.cache?.hitsCountForRateLimit === false;
  const ctx: PolicyContext = {
    ...base,
    cacheHitsAreFree: (route) => free && route.settings.cache !== undefined,
  };
  try {
    for (const module of POLICIES) {
      const config = (options as unknown as Record<string, unknown>)[module.configKey];
      const policy = await module.create(config, ctx);
      if (policy) built.push({ name: module.name, policy });
    }
  } catch (err) {
    await new PolicySet(built).close().catch(() => undefined);
    throw err;
  }
  return new PolicySet(built);
}

/** Closes a policy set and interceptors replaced by a reconfigure (or built by a failed one). */
async function retire(policies: PolicySet, interceptors: readonly Interceptor[]): Promise<void> {
  await policies.close();
  for (const i of interceptors) await i.close?.();
}

/**
 * Which state stores are shared between instances (in Redis) and which live in this process: each
 * policy that reports `shared` in its status (the rate limit), and the AMQP operations and idempotency
 * keys. What `stores` in `/_protogate/status` shows; the key is the store's name.
 */
function sharedStores(
  policies: Readonly<Record<string, Record<string, unknown>>>,
  options: GatewayOptions,
): Record<string, { shared: boolean }> {
  const out: Record<string, { shared: boolean }> = {};
  for (const [name, s] of Object.entries(policies))
    if (typeof s.shared === "boolean") out[name] = { shared: s.shared };
  if (options.amqp) out.operations = { shared: options.amqp.operations.store === "redis" };
  return out;
}
