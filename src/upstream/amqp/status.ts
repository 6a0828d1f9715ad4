import type * as amqp from "amqplib";
import {
  decodeMessage,
  type MessageInfo,
  type Msg,
  messageFromJson,
  messageToJson,
} from "../../codec/index.js";
import type { Code } from "../../errors/code.js";
import { type AnyJson, GatewayError } from "../../errors/gateway-error.js";

/** The `type` property of a worker's reply or result that carries a google.rpc.Status instead of the output. */
export const STATUS_TYPE = "google.rpc.Status";

/** A failure a worker reported: the fields of google.rpc.Status, details rendered as proto3 JSON. */
export interface WorkerStatus {
  readonly code: number;
  readonly message: string;
  readonly details: unknown[];
}

/**
 * A worker's reply (rpc) or result (command): the output message, or a google.rpc.Status when its `type`
 * property says so. JSON when its content type says so, else protobuf. Throws JsonMappingError or
 * WireFormatError when the content does not decode.
 */
export function decodeReply(
  output: MessageInfo,
  m: amqp.ConsumeMessage,
  resolve: (fullName: string) => MessageInfo | undefined,
): { msg: Msg } | { error: WorkerStatus } {
  const json = (m.properties.contentType ?? "").includes("json");
  const read = { ignoreUnknownFields: true, resolve };
  if (m.properties.type === STATUS_TYPE) {
    const status = resolve(STATUS_TYPE)!;
    const s = json
      ? messageFromJson(status, JSON.parse(m.content.toString()), "", read)
      : decodeMessage(status, m.content);
    const j = messageToJson(status, s, plainJson(resolve)) as {
      code?: number;
      message?: string;
      details?: unknown[];
    };
    return { error: { code: j.code ?? 2, message: j.message ?? "", details: j.details ?? [] } };
  }
  return {
    msg: json
      ? messageFromJson(output, JSON.parse(m.content.toString()), "", read)
      : decodeMessage(output, m.content),
  };
}

/** A worker's failure as the error the client sees: its own code, message and details. */
export function errorFromWorker(status: WorkerStatus): GatewayError {
  return new GatewayError(status.code as Code, status.message, { details: status.details as AnyJson[] });
}

/** proto3 JSON options for what the gateway stores or shows on its own (operations): the defaults. */
export function plainJson(resolve: (fullName: string) => MessageInfo | undefined) {
  return { emitUnpopulated: false, useProtoNames: false, enumsAsNumbers: false, resolve };
}
