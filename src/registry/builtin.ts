import { fileURLToPath } from "node:url";

/**
 * protogate's own copies of google/api, google/rpc and the well-known types, used for any import the
 * user's proto directories do not provide themselves. Resolved from src/ and from dist/ alike.
 */
export const BUILTIN_PROTO_DIR = fileURLToPath(new URL("../../protos-builtin", import.meta.url));

/** Always loaded, so that error details and Any values of these types can be rendered. */
export const ALWAYS_LOADED = [
  "google/protobuf/any.proto",
  "google/protobuf/duration.proto",
  "google/protobuf/empty.proto",
  "google/protobuf/field_mask.proto",
  "google/protobuf/struct.proto",
  "google/protobuf/timestamp.proto",
  "google/protobuf/wrappers.proto",
  "google/rpc/status.proto",
  "google/rpc/error_details.proto",
  "google/api/httpbody.proto",
  "protogate/v1/options.proto",
];
