import type * as amqp from "amqplib";
import type { UpstreamCall } from "../call.js";
import type { AmqpBinding } from "./config.js";

const JSON_TYPE = "application/json";
const PROTOBUF = "application/x-protobuf";
/** Call metadata that travels as message headers: the request id and W3C trace context. */
const FORWARDED = ["x-request-id", "traceparent", "tracestate"] as const;

/**
 * The properties of the message a call publishes: ids (message_id is the client's Idempotency-Key when it
 * gave one, so consumers can deduplicate; correlation_id the operation id), the content type of the
 * binding's encoding, the input type, and as headers: the binding's own, the caller's forwarded claims,
 * the request id, trace context and the gRPC method path.
 */
export function messageProperties(
  call: UpstreamCall,
  binding: AmqpBinding,
  id: string,
): amqp.Options.Publish {
  const headers: Record<string, string> = { ...binding.headers, ...call.claims };
  for (const key of FORWARDED) {
    const v = call.metadata.get(key)[0];
    if (typeof v === "string") headers[key] = v;
  }
  headers["x-grpc-method"] = call.route.method.path;
  return {
    messageId: call.idempotencyKey ?? id,
    correlationId: id,
    timestamp: Math.floor(Date.now() / 1000),
    contentType: binding.encoding === "json" ? JSON_TYPE : PROTOBUF,
    type: call.route.method.input.fullName,
    appId: "protogate",
    headers,
  };
}
