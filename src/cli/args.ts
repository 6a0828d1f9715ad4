import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { readConfigFile } from "../config/config-file.js";
import { LoadError } from "../config/load-error.js";
import type { GatewayOptions } from "../config/options.js";
import { portNumber } from "../config/validate.js";

export const USAGE = `usage: protogate serve [options]     run the gateway
       protogate check [options]     load protos and mappings as serve does; report every problem
       protogate routes [options]    print the route table (and any problem)

  --config FILE                  YAML config file (flags override it)
  --protos DIR                   proto directory; repeatable (default: ./protos)
  --mappings DIR                 mapping files (default: ./mappings if it exists)
  --descriptor-set FILE          a compiled FileDescriptorSet (buf build -o, protoc -o); repeatable
  --reflect ADDR                 discover services by gRPC reflection from this backend; repeatable
  --backend ADDR                 default backend of every service
  --backend pkg.Service=ADDR     backend of one service; repeatable
  --host H                       listen address (default 127.0.0.1)
  --port N                       listen port, 0 for a free one (default 8080)
  --admin-port N                 serve /_protogate/* on this port (on --host's default, 127.0.0.1), not on --port
  --log-level LEVEL              trace|debug|info|warn|error|silent (default info)
  --no-watch                     serve: do not reload when protos or mappings change
  --workers N                    serve: N processes sharing the port (node:cluster), default 1
`;

/** `serve` flags -> GatewayOptions (flags win over the config file). */
export function parseServeArgs(argv: readonly string[]): GatewayOptions & { workers: number } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      config: { type: "string" },
      protos: { type: "string", multiple: true },
      mappings: { type: "string" },
      "descriptor-set": { type: "string", multiple: true },
      reflect: { type: "string", multiple: true },
      backend: { type: "string", multiple: true },
      host: { type: "string" },
      port: { type: "string" },
      "admin-port": { type: "string" },
      "log-level": { type: "string" },
      "no-watch": { type: "boolean" },
      workers: { type: "string" },
    },
  });
  const file: GatewayOptions = values.config ? readConfigFile(values.config) : { protos: [] };
  const backends: Record<string, string> = { ...file.backends };
  let defaultBackend = file.defaultBackend;
  for (const b of values.backend ?? []) {
    const eq = b.indexOf("=");
    if (eq === -1) defaultBackend = b;
    else backends[b.slice(0, eq)] = b.slice(eq + 1);
  }
  const port = values.port === undefined ? file.port : portFlag(values.port, "--port");
  const admin =
    values["admin-port"] === undefined
      ? file.admin
      : { ...file.admin, port: portFlag(values["admin-port"], "--admin-port") };
  // With neither --protos nor a config file, the working directory's protos/ and mappings/ are used.
  const descriptorSets = values["descriptor-set"] ?? file.descriptorSets ?? [];
  const reflect = values.reflect ?? file.reflect ?? [];
  const defaults =
    values.protos === undefined &&
    file.protos.length === 0 &&
    descriptorSets.length === 0 &&
    reflect.length === 0;
  const protos = values.protos ?? (defaults && existsSync("protos") ? ["protos"] : file.protos);
  const mappings =
    values.mappings ?? file.mappings ?? (defaults && existsSync("mappings") ? "mappings" : undefined);
  const logLevel = values["log-level"] === "silent" ? false : (values["log-level"] ?? file.logLevel);
  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new LoadError(
      "CONFIG_INVALID",
      "--workers",
      `"${values.workers}" is not a number of workers (1-64)`,
    );
  }
  return {
    ...file,
    protos,
    mappings,
    descriptorSets,
    reflect,
    watch: !values["no-watch"],
    workers,
    defaultBackend,
    backends,
    host: values.host ?? file.host,
    port,
    ...(admin === undefined ? {} : { admin }),
    ...(logLevel === undefined ? {} : { logLevel }),
  };
}

function portFlag(text: string, flag: string): number {
  const port = /^\d+$/.test(text) ? portNumber(Number(text)) : undefined;
  if (port === undefined) throw new LoadError("CONFIG_INVALID", flag, `"${text}" is not a port number`);
  return port;
}
