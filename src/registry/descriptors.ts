import { existsSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { decodeMessage, jsonNameOf, type Msg, messageInfo } from "../codec/index.js";
import { LoadError } from "../config/load-error.js";
import { BUILTIN_PROTO_DIR } from "./builtin.js";
import type { HttpRule } from "./http-option.js";
import { checkDescriptorNames } from "./reserved-names.js";

/**
 * Compiled descriptors (a FileDescriptorSet from `buf build -o` or `protoc --include_imports -o`, or the
 * FileDescriptorProtos gRPC reflection returns) into the protobufjs Root the rest of the gateway uses.
 * protobufjs's own Root.fromDescriptor loses map fields and JSON names; this keeps both, proto3
 * `optional`, oneofs, and the google.api.http option of each method.
 */

// FieldDescriptorProto.Type -> protobufjs scalar name (10 group, 11 message, 14 enum: by type_name)
const SCALARS: Record<number, string> = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};
const LABEL_REQUIRED = 2;
const LABEL_REPEATED = 3;

type Json = Record<string, unknown>;
export type FileDesc = Msg & { name?: string; package?: string; syntax?: string };

let descriptorTypes: protobuf.Root | undefined;

/** descriptor.proto with google.api.http registered as a MethodOptions extension, to decode sets. */
function descriptorRoot(): protobuf.Root {
  if (!descriptorTypes) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(BUILTIN_PROTO_DIR, target);
    root.loadSync(
      ["google/protobuf/descriptor.proto", "google/api/annotations.proto", "protogate/v1/options.proto"],
      {
        keepCase: true,
      },
    );
    root.resolveAll();
    descriptorTypes = root;
  }
  return descriptorTypes;
}

/** Decodes a serialized FileDescriptorSet into its FileDescriptorProtos. */
export function decodeDescriptorSet(bytes: Uint8Array, where: string): FileDesc[] {
  try {
    const set = decodeMessage(
      messageInfo(descriptorRoot().lookupType("google.protobuf.FileDescriptorSet")),
      bytes,
    );
    return (set.file as FileDesc[] | undefined) ?? [];
  } catch (err) {
    throw new LoadError("PROTO_SYNTAX", where, `not a FileDescriptorSet: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Decodes one serialized FileDescriptorProto (what gRPC reflection sends). */
export function decodeFileDescriptor(bytes: Uint8Array, where: string): FileDesc {
  try {
    return decodeMessage(
      messageInfo(descriptorRoot().lookupType("google.protobuf.FileDescriptorProto")),
      bytes,
    ) as FileDesc;
  } catch (err) {
    throw new LoadError("PROTO_SYNTAX", where, `not a FileDescriptorProto: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Adds files to a Root. Files protogate has built in (google/protobuf, google/api, google/rpc) are
 * skipped: the Root has them already. Call root.resolveAll() afterwards.
 */
export function addFileDescriptors(root: protobuf.Root, files: readonly FileDesc[], where: string): void {
  const nested: Json = {};
  const added: Array<{ fullName: string; file: string }> = [];
  for (const file of files) {
    const name = file.name ?? "";
    if (isBuiltinFile(name)) continue;
    checkDescriptorNames(file, `${where}#${name}`);
    const pkg = file.package ?? "";
    let ns = nested;
    for (const part of pkg ? pkg.split(".") : []) {
      ns[part] ??= { nested: {} };
      ns = (ns[part] as { nested: Json }).nested;
    }
    const proto2 = !file.syntax || file.syntax === "proto2";
    const prefix = pkg ? `.${pkg}` : "";
    // Google's own types may come again under another file name (servers built on protobufjs name
    // them differently): the Root's copy wins. Any other duplicate is an error, from addJSON.
    const known = (n: unknown) =>
      (pkg.startsWith("google.") || pkg.startsWith("protogate.")) && root.lookup(`${prefix}.${n}`) !== null;
    for (const m of list(file.message_type)) {
      if (known(m.name)) continue;
      ns[m.name as string] = messageJson(m, `${prefix}.${m.name}`, proto2);
      added.push({ fullName: `${prefix}.${m.name}`, file: name });
    }
    for (const e of list(file.enum_type)) if (!known(e.name)) ns[e.name as string] = enumJson(e);
    for (const s of list(file.service)) {
      ns[s.name as string] = serviceJson(s);
      added.push({ fullName: `${prefix}.${s.name}`, file: name });
    }
  }
  try {
    root.addJSON(nested as Record<string, protobuf.AnyNestedObject>);
  } catch (err) {
    throw new LoadError("PROTO_RESOLVE", where, (err as Error).message, { cause: err });
  }
  for (const { fullName, file } of added) {
    const obj = root.lookup(fullName);
    if (obj) obj.filename = `${where}#${file}`;
  }
}

/** google/protobuf, google/api and google/rpc files protogate ships: every Root has them already. */
export const isBuiltinFile = (name: string): boolean =>
  (name.startsWith("google/") || name.startsWith("protogate/")) && existsSync(join(BUILTIN_PROTO_DIR, name));

const list = (v: unknown): Msg[] => (Array.isArray(v) ? (v as Msg[]) : []);

function messageJson(d: Msg, fullName: string, proto2: boolean): Json {
  const fields: Json = {};
  const oneofs: Json = {};
  const nested: Json = {};
  const mapEntries = new Map<string, Msg>();
  for (const n of list(d.nested_type)) {
    if ((n.options as Msg | undefined)?.map_entry) mapEntries.set(`${fullName}.${n.name}`, n);
    else nested[n.name as string] = messageJson(n, `${fullName}.${n.name}`, proto2);
  }
  for (const e of list(d.enum_type)) nested[e.name as string] = enumJson(e);
  const decls = list(d.oneof_decl);
  for (const f of list(d.field)) {
    const name = f.name as string;
    const field: Json = { id: f.number };
    // type_name is fully qualified (".pkg.Msg.MEntry") from protoc and buf; some servers send it
    // relative to the message ("MEntry"), as protobufjs's toDescriptor writes it.
    const typeName = f.type_name as string | undefined;
    const entry = typeName && mapEntries.get(typeName.startsWith(".") ? typeName : `${fullName}.${typeName}`);
    if (entry) {
      const [key, value] = list(entry.field);
      field.keyType = SCALARS[key!.type as number];
      field.type = typeOf(value!);
    } else {
      field.type = typeOf(f);
      if (f.label === LABEL_REPEATED) field.rule = "repeated";
      else if (f.label === LABEL_REQUIRED) field.rule = "required";
    }
    const options: Json = {};
    if (typeof f.json_name === "string" && f.json_name !== jsonNameOf(name)) options.json_name = f.json_name;
    if (f.proto3_optional) options.proto3_optional = true;
    const packed = (f.options as Msg | undefined)?.packed;
    if (packed !== undefined) options.packed = packed;
    if (Object.keys(options).length > 0) field.options = options;
    fields[name] = field;
    if (f.oneof_index !== undefined) {
      const oneof = decls[f.oneof_index as number]?.name as string;
      ((oneofs[oneof] ??= { oneof: [] }) as { oneof: string[] }).oneof.push(name);
    }
  }
  return {
    fields,
    ...(Object.keys(oneofs).length > 0 ? { oneofs } : {}),
    ...(Object.keys(nested).length > 0 ? { nested } : {}),
    ...(proto2 ? { edition: "proto2" } : {}),
  };
}

function typeOf(f: Msg): string {
  return SCALARS[f.type as number] ?? (f.type_name as string);
}

function enumJson(e: Msg): Json {
  const values: Json = {};
  for (const v of list(e.value)) values[v.name as string] = v.number ?? 0;
  return { values };
}

function serviceJson(s: Msg): Json {
  const methods: Json = {};
  for (const m of list(s.method)) {
    const http = (m.options as Msg | undefined)?.[".google.api.http"] as Msg | undefined;
    const auth = (m.options as Msg | undefined)?.[".protogate.v1.auth"] as Msg | undefined;
    const amqp = (m.options as Msg | undefined)?.[".protogate.v1.amqp"] as Msg | undefined;
    const parsedOptions = [
      ...(http ? [{ "(google.api.http)": plain(http) as HttpRule }] : []),
      ...(auth ? [{ "(protogate.v1.auth)": plain(auth) }] : []),
      ...(amqp ? [{ "(protogate.v1.amqp)": plain(amqp) }] : []),
    ];
    methods[m.name as string] = {
      requestType: m.input_type,
      responseType: m.output_type,
      ...(m.client_streaming ? { requestStream: true } : {}),
      ...(m.server_streaming ? { responseStream: true } : {}),
      ...(parsedOptions.length > 0 ? { parsedOptions } : {}),
    };
  }
  return { methods };
}

/** A decoded message as a plain object: set fields only (Msg keeps unset fields as undefined). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
  const out: Json = {};
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
  return out;
}
