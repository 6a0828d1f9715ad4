import { decodeMessage, type MessageInfo, type Msg, messageToJson } from "../../codec/index.js";
import type { Code } from "../../errors/code.js";
import { type AnyJson, GatewayError } from "../../errors/gateway-error.js";
import type { Metadata } from "../call-metadata.js";
import { responseHeaders } from "./metadata.js";

/**
 * A failed gRPC call as a GatewayError: the code, the message, the `details` of google.rpc.Status from
 * the `grpc-status-details-bin` trailer (each Any rendered with `@type`), and the call's metadata as headers.
 */
export function errorFromStatus(
  status: { code: number; details: string; metadata: Metadata },
  headerMd: Metadata | undefined,
  resolve: (fullName: string) => MessageInfo | undefined,
): GatewayError {
  let message = status.details;
  let details: AnyJson[] = [];
  const raw = status.metadata.get("grpc-status-details-bin")[0];
  const statusType = resolve("google.rpc.Status");
  if (raw instanceof Buffer && statusType) {
    try {
      const decoded = decodeMessage(statusType, raw);
      details = (messageToJson(statusType, decoded, WRITE(resolve)) as { details?: AnyJson[] }).details ?? [];
      if (!message && typeof (decoded as Msg).message === "string") message = decoded.message as string;
    } catch {
      // Undecodable details (an Any of a type we do not know) must not hide the error itself.
      details = [];
    }
  }
  return new GatewayError(status.code as Code, message, {
    details,
    headers: responseHeaders(headerMd, status.metadata),
  });
}

const WRITE = (resolve: (fullName: string) => MessageInfo | undefined) => ({
  emitUnpopulated: false,
  useProtoNames: false,
  enumsAsNumbers: false,
  resolve,
});
