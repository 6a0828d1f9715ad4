import { Code } from "./code.js";
import { GatewayError } from "./gateway-error.js";

/**
 * The cause of an error the gateway met on its way upstream (a refused connection, a DNS name that did
 * not resolve, a broker that returned the message): kept for the log, never shown to the client.
 */
export class UpstreamFailure extends Error {
  override readonly name = "UpstreamFailure";
}

/** What a client is told instead, by code. */
const GENERIC: Partial<Record<number, string>> = {
  [Code.UNAVAILABLE]: "the service is unavailable, try again later",
  [Code.DEADLINE_EXCEEDED]: "the service did not answer in time",
  [Code.INTERNAL]: "internal error",
  [Code.UNKNOWN]: "the service's answer could not be understood",
};

/**
 * A failure the gateway met upstream, as the client sees it: the same code, status and headers, a
 * generic message with the request id (`the service is unavailable, try again later (request abc)`),
 * no details. The original message (addresses, exchange names, decoder internals) becomes the
 * `UpstreamFailure` cause, which the server logs at warn. Codes without a generic text pass unchanged.
 */
export function concealed(err: GatewayError, requestId: string): GatewayError {
  const generic = GENERIC[err.code];
  if (generic === undefined || err.cause instanceof UpstreamFailure) return err;
  return new GatewayError(err.code, `${generic} (request ${requestId})`, {
    ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
    ...(err.headers === undefined ? {} : { headers: err.headers }),
    cause: new UpstreamFailure(err.message, { cause: err.cause }),
  });
}
