import type { GatewayError } from "../errors/gateway-error.js";

/**
 * An edge check deferred until the request is known to go upstream: the rate limit, when answers the
 * response cache serves are free (`cache.hitsCountForRateLimit: false`). An edge policy creates it in
 * place of deciding (`req.gateway.admission`); the handler hands it on with the call
 * (`UpstreamCall.admission`), and whoever is about to go upstream with that call runs it first:
 * the cache on a miss (and it waives it on a hit), `admitFirst` on a caching route the cache does not
 * serve, the handler before a stream or a composition.
 *
 * Runs its check at most once: later `admit` calls get the first outcome; after `waive` (the answer
 * came from the cache) the check never runs and `admit` admits.
 */
export class Admission {
  private outcome: Promise<GatewayError | undefined> | undefined;

  /** `check` resolves when the request may go on and rejects with the refusal (a GatewayError: 429, 503). */
  constructor(private readonly check: () => Promise<void>) {}

  /** Whether the check has neither run nor been waived. */
  get pending(): boolean {
    return this.outcome === undefined;
  }

  /** Runs the check (once); `done` gets the refusal, or undefined when the request may go upstream. Never synchronous. */
  admit(done: (refusal: GatewayError | undefined) => void): void {
    this.outcome ??= this.check().then(
      () => undefined,
      (err: unknown) => err as GatewayError,
    );
    void this.outcome.then(done);
  }

  /** The request was answered without going upstream: the check will not run. */
  waive(): void {
    this.outcome ??= Promise.resolve(undefined);
  }
}
