// Where the example's protos are: its own (protos/) and protogate's built-in google/ and protogate/ ones
// (protos-builtin/, which the package ships), searched in that order as protoc's -I would.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PROTO_DIRS = [
  fileURLToPath(new URL("../../protos", import.meta.url)),
  fileURLToPath(new URL("../../protos-builtin", import.meta.url)),
];

/** A protobufjs `resolvePath`: the first directory that has the imported file. */
export function resolveProto(_origin, target) {
  const found = PROTO_DIRS.map((d) => `${d}/${target}`).find((p) => existsSync(p));
  return found ?? `${PROTO_DIRS[0]}/${target}`;
}
