import type { GatewayError } from "./gateway-error.js";
import { httpStatusFromCode } from "./http-status.js";

/** Constant body used when even rendering the error fails. */
export const FALLBACK_BODY = '{"code":13,"message":"failed to render error"}';

export interface RenderedError {
  status: number;
  body: string;
  headers: Record<string, string | string[]>;
}

/** Renders a GatewayError as google.rpc.Status JSON with its HTTP status. */
export function renderError(err: GatewayError): RenderedError {
  const status = err.httpStatus ?? httpStatusFromCode(err.code);
  // RFC 9110 section 15.6.4: a 503 says when to come back; the gateway's own guess is a second.
  const headers =
    status === 503 && err.headers?.["retry-after"] === undefined
      ? { ...err.headers, "retry-after": "1" }
      : (err.headers ?? {});
  try {
    const body = JSON.stringify({ code: err.code, message: err.message, details: err.details });
    return { status, body, headers };
  } catch {
    return { status, body: FALLBACK_BODY, headers };
  }
}
