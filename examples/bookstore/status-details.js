// Builds the `grpc-status-details-bin` trailer: a google.rpc.Status whose details are Any messages.
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { resolveProto } from "./proto-dirs.js";

const root = new protobuf.Root();
root.resolvePath = resolveProto;
root.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true });
const Status = root.lookupType("google.rpc.Status");

/** An error for a handler's callback: code, message, and typed details such as {type: "google.rpc.ErrorInfo", ...}. */
export function richError(code, message, details = []) {
  const any = details.map(({ type, ...fields }) => ({
    type_url: `type.googleapis.com/${type}`,
    value: root.lookupType(type).encode(root.lookupType(type).fromObject(fields)).finish(),
  }));
  const metadata = new grpc.Metadata();
  metadata.set(
    "grpc-status-details-bin",
    Buffer.from(Status.encode({ code, message, details: any }).finish()),
  );
  return { code, details: message, metadata };
}
