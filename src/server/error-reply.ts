import type { FastifyReply } from "fastify";
import { JsonMappingError, WireFormatError } from "../codec/index.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import { renderError } from "../errors/status-json.js";
import { PercentDecodeError } from "../routing/decode.js";

/** Normalises what the request pipeline can throw into the one error type clients see. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof JsonMappingError || err instanceof PercentDecodeError) {
    return new GatewayError(Code.INVALID_ARGUMENT, err.message, { cause: err });
  }
  if (err instanceof WireFormatError) {
    return new GatewayError(Code.INTERNAL, `the backend's answer could not be decoded: ${err.message}`, {
      cause: err,
    });
  }
  const fastifyCode = (err as { code?: unknown })?.code;
  if (fastifyCode === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new GatewayError(Code.RESOURCE_EXHAUSTED, "request body is larger than the configured limit", {
      httpStatus: 413,
      cause: err,
    });
  }
  const status = (err as { statusCode?: unknown })?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new GatewayError(Code.INVALID_ARGUMENT, (err as Error).message, {
      httpStatus: status,
      cause: err,
    });
  }
  return GatewayError.from(err);
}

// The type Fastify sends for a JSON text, given whole: told only "application/json", Fastify appends
// "; charset=utf-8" per reply, and Node's header check takes a slow path on the concatenated string.
const JSON_TYPE = "application/json; charset=utf-8";

export function sendError(reply: FastifyReply, err: GatewayError): FastifyReply {
  const { status, body, headers } = renderError(err);
  return reply.code(status).headers(headers).type(JSON_TYPE).send(body);
}
