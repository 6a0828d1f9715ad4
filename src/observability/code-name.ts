import { Code } from "../errors/code.js";

const NAMES: string[] = [];
for (const [name, code] of Object.entries(Code)) NAMES[code] = name;

/** The name of a gRPC status code ("UNAVAILABLE"), "UNKNOWN" for a number outside google.rpc.Code. */
export function codeName(code: number): string {
  return NAMES[code] ?? "UNKNOWN";
}
