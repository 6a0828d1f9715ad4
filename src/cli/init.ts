import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * `protogate init [dir]`: a starter project in `dir` (default: the working directory), ready for
 * `npx protogate serve --config protogate.yaml`:
 *
 *   protogate.yaml                      listener, proto and mapping directories, the backend
 *   protos/greeter/v1/greeter.proto     one service annotated with google.api.http
 *   mappings/greeter.yaml               per-method settings for it
 *
 * The YAML files start with a `# yaml-language-server: $schema=...` line pointing at the JSON Schemas the
 * package ships (`node_modules/protogate/schemas/`), so editors complete and check keys; the paths assume
 * `dir` is the project where protogate is installed. Nothing is overwritten: if any of the files exists,
 * none is written and the exit code is 1.
 */
export function runInit(
  argv: readonly string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  if (argv.some((a) => a === "-h" || a === "--help")) {
    out.write(INIT_USAGE);
    return 0;
  }
  const extra = argv.find((a, i) => i > 0 || a.startsWith("-"));
  if (extra !== undefined) {
    err.write(`protogate init: unexpected argument "${extra}"\n`);
    err.write(INIT_USAGE);
    return 2;
  }
  const dir = resolve(argv[0] ?? ".");
  const existing = STARTER_FILES.map(([path]) => join(dir, path)).filter((p) => existsSync(p));
  if (existing.length > 0) {
    for (const p of existing) err.write(`protogate init: ${p} exists; not overwriting it\n`);
    err.write("protogate init: nothing written\n");
    return 1;
  }
  for (const [path, text] of STARTER_FILES) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    // "wx": never replace a file that appeared since the check above
    writeFileSync(file, text, { flag: "wx" });
    out.write(`created ${file}\n`);
  }
  out.write(
    `\nnext: start your gRPC server on ${EXAMPLE_BACKEND}, then\n  npx protogate serve --config protogate.yaml\n`,
  );
  return 0;
}

const INIT_USAGE = `usage: protogate init [dir]    write a starter protogate.yaml, protos/ and mappings/ in dir (default .)
                               existing files are never overwritten
`;

const EXAMPLE_BACKEND = "127.0.0.1:50051";
const SCHEMAS = "node_modules/protogate/schemas";

/** [path relative to the project, content] of every file `init` writes. */
export const STARTER_FILES: readonly (readonly [string, string])[] = [
  [
    "protogate.yaml",
    `# yaml-language-server: $schema=${SCHEMAS}/config.schema.json
# protogate's configuration: npx protogate serve --config protogate.yaml
# Relative paths are relative to this file. Command-line flags override these keys.
server:
  host: 127.0.0.1
  port: 8080
protos: [protos]
mappings: mappings
backends:
  default: ${EXAMPLE_BACKEND}
logLevel: info
`,
  ],
  [
    "protos/greeter/v1/greeter.proto",
    `syntax = "proto3";

package greeter.v1;

import "google/api/annotations.proto";

// google/api/annotations.proto and the well-known types are built into protogate: no need to copy them.

// Says hello. Each rpc's google.api.http option is its REST route.
service GreeterService {
  // GET /v1/greeter/ann answers {"message":"Hello, ann"} when the backend implements it.
  rpc SayHello(SayHelloRequest) returns (SayHelloResponse) {
    option (google.api.http) = {
      get: "/v1/greeter/{name}"
      additional_bindings { post: "/v1/greeter:sayHello" body: "*" }
    };
  }
}

message SayHelloRequest {
  // Who to greet (from the path, or the JSON body of the POST).
  string name = 1;
}

message SayHelloResponse {
  string message = 1;
}
`,
  ],
  [
    "mappings/greeter.yaml",
    `# yaml-language-server: $schema=../${SCHEMAS}/mapping.schema.json
# Mapping files add what the protos cannot say: per-method settings, extra HTTP rules, backends.
methods:
  greeter.v1.GreeterService.SayHello:
    timeout: 5s
`,
  ],
];
