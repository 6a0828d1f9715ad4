import { Code } from "./code.js";
import { UpstreamFailure } from "./conceal.js";
import { GatewayError, type GatewayErrorOptions } from "./gateway-error.js";

/**
 * The cause of an error the gateway made up itself without calling the backend (an open circuit, a
 * concurrency limit, an injected fault, a method without a backend): retrying it would only repeat
 * the refusal, and it says nothing about the backend's health.
 */
export class LocalRejection extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "LocalRejection";
  }
}

/** An UNAVAILABLE (503) answer the gateway gives without calling the backend, with its reason. */
export function rejection(message: string, reason: string, options: GatewayErrorOptions = {}): GatewayError {
  return new GatewayError(Code.UNAVAILABLE, message, { ...options, cause: new LocalRejection(reason) });
}

/** True when `err` was made by the gateway without calling the backend, concealed (conceal.ts) or not. */
export function isLocalRejection(err: GatewayError): boolean {
  const cause = err.cause instanceof UpstreamFailure ? err.cause.cause : err.cause;
  return cause instanceof LocalRejection;
}
