import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { decodeMessage, encodeMessage, type MessageInfo, type Msg, messageInfo } from "../codec/index.js";
import { decodeFileDescriptor, type FileDesc, isBuiltinFile } from "./descriptors.js";

/**
 * A gRPC server reflection client (grpc.reflection.v1, falling back to v1alpha): lists a backend's
 * services and fetches the FileDescriptorProtos that define them, with their dependencies.
 * The protocol's few messages are declared here rather than shipped as .proto files, so that they never
 * mix with the user's protos.
 */

const MESSAGES = {
  ServerReflectionRequest: {
    oneofs: { message_request: { oneof: ["file_by_filename", "file_containing_symbol", "list_services"] } },
    fields: {
      host: { type: "string", id: 1 },
      file_by_filename: { type: "string", id: 3 },
      file_containing_symbol: { type: "string", id: 4 },
      list_services: { type: "string", id: 7 },
    },
  },
  ServerReflectionResponse: {
    oneofs: {
      message_response: { oneof: ["file_descriptor_response", "list_services_response", "error_response"] },
    },
    fields: {
      valid_host: { type: "string", id: 1 },
      file_descriptor_response: { type: "FileDescriptorResponse", id: 4 },
      list_services_response: { type: "ListServiceResponse", id: 6 },
      error_response: { type: "ErrorResponse", id: 7 },
    },
  },
  FileDescriptorResponse: { fields: { file_descriptor_proto: { rule: "repeated", type: "bytes", id: 1 } } },
  ListServiceResponse: { fields: { service: { rule: "repeated", type: "ServiceResponse", id: 1 } } },
  ServiceResponse: { fields: { name: { type: "string", id: 1 } } },
  ErrorResponse: {
    fields: { error_code: { type: "int32", id: 1 }, error_message: { type: "string", id: 2 } },
  },
};
const VERSIONS = ["v1", "v1alpha"] as const;

function protocol(version: (typeof VERSIONS)[number]): {
  request: MessageInfo;
  response: MessageInfo;
  path: string;
} {
  const root = protobuf.Root.fromJSON({
    nested: { grpc: { nested: { reflection: { nested: { [version]: { nested: MESSAGES } } } } } },
  });
  root.resolveAll();
  const pkg = `grpc.reflection.${version}`;
  return {
    request: messageInfo(root.lookupType(`${pkg}.ServerReflectionRequest`)),
    response: messageInfo(root.lookupType(`${pkg}.ServerReflectionResponse`)),
    path: `/${pkg}.ServerReflection/ServerReflectionInfo`,
  };
}

/** Services a gateway should not expose even if a backend reflects them. */
const INTERNAL = /^grpc\.(reflection|health)\./;

export class ReflectionError extends Error {}

export interface Reflected {
  readonly files: FileDesc[];
  /** Changes when any descriptor does: a refresh that finds the same fingerprint needs no reload. */
  readonly fingerprint: string;
}

/** Fetches the descriptors of every service the backend reflects (v1, then v1alpha if v1 is unimplemented). */
export async function fetchDescriptors(client: grpc.Client, timeoutMs = 10_000): Promise<Reflected> {
  let last: unknown;
  for (const version of VERSIONS) {
    try {
      return await fetchWith(client, protocol(version), timeoutMs);
    } catch (err) {
      last = err;
      if ((err as { code?: number }).code !== grpc.status.UNIMPLEMENTED) break;
    }
  }
  throw new ReflectionError(`reflection failed: ${(last as Error).message}`, { cause: last });
}

async function fetchWith(
  client: grpc.Client,
  p: ReturnType<typeof protocol>,
  timeoutMs: number,
): Promise<Reflected> {
  const stream = client.makeBidiStreamRequest(
    p.path,
    (m: Msg) => Buffer.from(encodeMessage(p.request, m)),
    (b: Buffer) => decodeMessage(p.response, b),
    new grpc.Metadata(),
    { deadline: Date.now() + timeoutMs },
  );
  const ask = requester(stream);
  try {
    const listed = await ask({ list_services: "" });
    const services = ((listed.list_services_response as Msg | undefined)?.service as Msg[] | undefined) ?? [];
    const files = new Map<string, FileDesc>();
    const raw = new Map<string, Uint8Array>();
    const add = (res: Msg, what: string) => {
      if (res.error_response) {
        const e = res.error_response as Msg;
        throw new ReflectionError(`${what}: ${e.error_message} (code ${e.error_code})`);
      }
      const protos =
        ((res.file_descriptor_response as Msg | undefined)?.file_descriptor_proto as
          | Uint8Array[]
          | undefined) ?? [];
      for (const bytes of protos) {
        const file = decodeFileDescriptor(bytes, what);
        if (file.name && !files.has(file.name)) {
          files.set(file.name, file);
          raw.set(file.name, bytes);
        }
      }
    };
    for (const s of services) {
      const name = s.name as string;
      if (!INTERNAL.test(name)) add(await ask({ file_containing_symbol: name }), `symbol ${name}`);
    }
    // Dependencies a server did not send along with the file that needs them.
    for (let missing = missingDeps(files); missing.length > 0; missing = missingDeps(files)) {
      for (const name of missing) {
        const before = files.size;
        add(await ask({ file_by_filename: name }), `file ${name}`);
        if (files.size === before) files.set(name, { name } as FileDesc); // not available: stop asking
      }
    }
    const hash = createHash("sha256");
    for (const name of [...raw.keys()].sort()) hash.update(name).update(raw.get(name)!);
    const found = [...files.values()].filter((f) => raw.has(f.name ?? ""));
    return { files: found, fingerprint: hash.digest("hex") };
  } finally {
    stream.end();
  }
}

function missingDeps(files: Map<string, FileDesc>): string[] {
  const out = new Set<string>();
  for (const f of files.values()) {
    for (const dep of (f.dependency as string[] | undefined) ?? []) {
      if (!files.has(dep) && !isBuiltinFile(dep)) out.add(dep);
    }
  }
  return [...out];
}

/** Sends one request at a time on the stream and resolves with its response (they come in order). */
function requester(stream: grpc.ClientDuplexStream<Msg, Msg>): (req: Msg) => Promise<Msg> {
  const waiting: Array<{ resolve: (m: Msg) => void; reject: (e: unknown) => void }> = [];
  let failed: unknown;
  stream.on("data", (m: Msg) => waiting.shift()?.resolve(m));
  stream.on("error", (err) => {
    failed = err;
    for (const w of waiting.splice(0)) w.reject(err);
  });
  stream.on("end", () => {
    for (const w of waiting.splice(0))
      w.reject(new ReflectionError("the server closed the reflection stream"));
  });
  return (req) =>
    new Promise<Msg>((resolve, reject) => {
      if (failed) return reject(failed);
      waiting.push({ resolve, reject });
      stream.write(req);
    });
}
