import { LoadError } from "../config/load-error.js";
import type { GatewayOptions } from "../config/options.js";
import { listProtoFiles } from "../registry/load-protos.js";

/**
 * Issue #21, point 4: a gateway started with nothing to serve is a mistake (a wrong --protos, a volume
 * not mounted), not a gateway with 0 routes. Returns the error when the proto directories hold no .proto
 * file and no descriptor set or reflection brings services; undefined otherwise (a proto directory that
 * does not exist is reported by loading, with its own message).
 */
export function nothingToServe(options: GatewayOptions): LoadError | undefined {
  if ((options.descriptorSets?.length ?? 0) > 0 || (options.reflect?.length ?? 0) > 0) return undefined;
  const how = "give --protos the directory of your .proto files, or --descriptor-set or --reflect";
  if (options.protos.length === 0)
    return new LoadError(
      "PROTO_NOT_FOUND",
      "protos",
      `no proto directory, and ./protos does not exist: ${how}`,
    );
  try {
    if (listProtoFiles(options.protos).length > 0) return undefined;
  } catch {
    return undefined;
  }
  return new LoadError(
    "PROTO_NOT_FOUND",
    options.protos.join(", "),
    `no .proto file found (google/ and protogate/ at the top hold imports only): nothing to serve; ${how}`,
  );
}

/** The warning for a configuration that loads but gives no route (protos with no service). */
export const NO_ROUTES =
  "no routes: the protos load but give none (no service; only streaming methods; or no HTTP rule with autoMapping off): every request will answer 404";
