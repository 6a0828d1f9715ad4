import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from "fastify";
import type { EdgePolicy } from "../policies/policy.js";

/** The three places of the request's way where edge policies hook in (src/policies/policy.ts). */
export type PolicyPhase = "global" | "beforeMatch" | "afterMatch";

/** One built set of edge policies, by module name, with what the edge hooks need to run and retire it. */
export class PolicySet {
  readonly hooks: Readonly<Record<PolicyPhase, readonly onRequestHookHandler[]>>;
  /** Hook runs of this set not finished yet: a retired set is closed only when none is left. */
  private active = 0;
  private idle: (() => void) | undefined;

  constructor(readonly policies: ReadonlyArray<{ readonly name: string; readonly policy: EdgePolicy }>) {
    const of = (p: PolicyPhase) => policies.flatMap(({ policy }) => (policy[p] ? [policy[p]] : []));
    this.hooks = { global: of("global"), beforeMatch: of("beforeMatch"), afterMatch: of("afterMatch") };
  }

  enter(): void {
    this.active++;
  }

  leave(): void {
    if (--this.active === 0) this.idle?.();
  }

  /** Closes every policy once no request is inside one of its hooks (a reconfigure retired this set). */
  async close(): Promise<void> {
    if (this.active > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    for (const { policy } of this.policies) await policy.close?.();
  }
}

/**
 * Runs the hooks of one phase of `set`, in order, then `done` (once, with the first error, if any).
 * Hooks keep Fastify's contract: a callback hook has 3 parameters and calls `done`, an async one returns
 * a promise; an error answers the request; once a hook has answered, the rest are skipped. The set is
 * held open (PolicySet.enter) while its hooks run, so that a reconfigure closes it only after them.
 */
export function runPhase(
  set: PolicySet,
  phase: PolicyPhase,
  self: FastifyInstance,
  req: FastifyRequest,
  reply: FastifyReply,
  done: (err?: Error) => void,
): void {
  const hooks = set.hooks[phase];
  if (hooks.length === 0) {
    done();
    return;
  }
  set.enter();
  let i = 0;
  const next = (err?: unknown): void => {
    if (err !== undefined && err !== null) {
      set.leave();
      done(err as Error);
      return;
    }
    if (i === hooks.length || reply.sent) {
      set.leave();
      done();
      return;
    }
    const hook = hooks[i++]!;
    try {
      const result = (hook as unknown as Hook).call(self, req, reply, next);
      if (hook.length < 3) {
        const p = result as Promise<unknown> | undefined;
        if (p && typeof p.then === "function") p.then(() => next(), next);
        else next();
      }
    } catch (e) {
      next(e ?? new Error("a policy hook threw"));
    }
  };
  next();
}

type Hook = (req: FastifyRequest, reply: FastifyReply, done: (err?: unknown) => void) => unknown;

/**
 * Counts the requests of a listener that have not finished answering: `wrap` Fastify's request handler
 * (its serverFactory's `handle`) to count each request in, and out when its response closes. A wrapper
 * rather than a second "request" listener (which makes Node copy the listener array on every emit), and
 * one shared "close" listener rather than a `once` closure per request.
 */
export class InFlight {
  private n = 0;
  private readonly closed = (): void => {
    this.n--;
  };

  get count(): number {
    return this.n;
  }

  wrap<Req, Res extends { on(event: "close", listener: () => void): unknown }>(
    handle: (req: Req, res: Res) => void,
  ): (req: Req, res: Res) => void {
    return (req, res) => {
      this.n++;
      res.on("close", this.closed);
      handle(req, res);
    };
  }
}

/** The SIGTERM sequence's timings (config `server.shutdown`), ms. */
export interface ShutdownTimings {
  /** Readiness answers 503 this long before the listener closes, so load balancers stop sending. */
  readonly delayMs: number;
  /** Requests in flight may finish this long once the listener is closed; then they are cut. */
  readonly drainMs: number;
}

/** Waits `ms` (0 answers at once). */
export const pause = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
