import type { Code } from "./code.js";

/**
 * The one gRPC-code -> HTTP-status table (google/rpc/code.proto, as grpc-gateway and Envoy map it).
 * Indexed by code; anything outside the table is treated as UNKNOWN.
 */
const table: readonly number[] = [
  200, // 0 OK
  499, // 1 CANCELLED: the client went away (nginx's "client closed request")
  500, // 2 UNKNOWN
  400, // 3 INVALID_ARGUMENT
  504, // 4 DEADLINE_EXCEEDED
  404, // 5 NOT_FOUND
  409, // 6 ALREADY_EXISTS
  403, // 7 PERMISSION_DENIED
  429, // 8 RESOURCE_EXHAUSTED
  400, // 9 FAILED_PRECONDITION: 400, not 412; the request is wrong for the current state
  409, // 10 ABORTED: concurrency conflict, retry at a higher level
  400, // 11 OUT_OF_RANGE
  501, // 12 UNIMPLEMENTED
  500, // 13 INTERNAL
  503, // 14 UNAVAILABLE
  500, // 15 DATA_LOSS
  401, // 16 UNAUTHENTICATED
];

export function httpStatusFromCode(code: Code | number): number {
  return table[code] ?? 500;
}
