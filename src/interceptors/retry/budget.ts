import type { RetryBudget } from "./policy.js";

/**
 * Requests and retries in flight to one backend. A retry may start while retries in flight stay below
 * `percent` of requests in flight, or below `minRetries` (Envoy's retry budget), so that retries cannot
 * multiply an outage: in a full outage, attempts at the backend stay near requests * (1 + percent/100).
 */
export class BackendBudget {
  requests = 0;
  retries = 0;

  constructor(private readonly budget: RetryBudget) {}

  /** Takes a retry from the budget; false when it is spent. Give it back with `retryDone`. */
  tryRetry(): boolean {
    const limit = Math.max(this.budget.minRetries, (this.requests * this.budget.percent) / 100);
    if (this.retries >= limit) return false;
    this.retries++;
    return true;
  }

  retryDone(): void {
    this.retries--;
  }
}
