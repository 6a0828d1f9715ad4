import { Code } from "../errors/code.js";
import { GatewayError, type GatewayErrorOptions } from "../errors/gateway-error.js";

/**
 * The cause of an error the gateway made up itself without calling the backend (an open circuit, a
 * concurrency limit, an injected fault): retrying it would only repeat the refusal.
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

/** True when `err` was made by the gateway without calling the backend. */
export function isLocalRejection(err: GatewayError): boolean {
  return err.cause instanceof LocalRejection;
}
