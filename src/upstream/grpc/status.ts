import { encodeBase64 } from "../../codec/base64.js";
import { decodeMessage, type MessageInfo, type Msg, messageToJson } from "../../codec/index.js";
import type { Code } from "../../errors/code.js";
import { type AnyJson, GatewayError } from "../../errors/gateway-error.js";
import type { Metadata } from "../call-metadata.js";
import { responseHeaders } from "./metadata.js";

/**
 * A failed gRPC call as a GatewayError: the code, the message, the `details` of google.rpc.Status from
 * the `grpc-status-details-bin` trailer (each Any rendered with `@type`), and the call's metadata as headers.
 * A detail that cannot be rendered (an unknown type, bytes that do not decode) is kept as
 * `{"@type": <type URL>, "value": <base64>}`, the form of an Any whose type is unknown (as the
 * mapping's readers take it back): one such detail never hides the others. Undecodable trailers give
 * no details; the error itself always gets through.
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
  const anyType = resolve("google.protobuf.Any");
  if (raw instanceof Buffer && statusType && anyType) {
    try {
      const decoded = decodeMessage(statusType, raw);
      details = ((decoded.details as Msg[] | undefined) ?? []).map((d) => detailToJson(anyType, d, resolve));
      if (!message && typeof (decoded as Msg).message === "string") message = decoded.message as string;
    } catch {
      // google.rpc.Status itself does not decode: the code and message still stand.
      details = [];
    }
  }
  return new GatewayError(status.code as Code, message, {
    details,
    headers: responseHeaders(headerMd, status.metadata),
  });
}

function detailToJson(
  anyType: MessageInfo,
  any: Msg,
  resolve: (fullName: string) => MessageInfo | undefined,
): AnyJson {
  try {
    return messageToJson(anyType, any, WRITE(resolve)) as AnyJson;
  } catch {
    const value = (any.value as Uint8Array | undefined) ?? new Uint8Array(0);
    return { "@type": (any.type_url as string | undefined) ?? "", value: encodeBase64(value) };
  }
}

const WRITE = (resolve: (fullName: string) => MessageInfo | undefined) => ({
  emitUnpopulated: false,
  useProtoNames: false,
  enumsAsNumbers: false,
  resolve,
});
