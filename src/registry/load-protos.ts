import { existsSync, readdirSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import protobuf from "protobufjs";
import { LoadError } from "../config/load-error.js";
import { ALWAYS_LOADED, BUILTIN_PROTO_DIR } from "./builtin.js";

/**
 * Loads every .proto under the given directories into one protobufjs Root. Imports resolve against the
 * directories in order (like protoc's -I), then against protogate's built-in protos.
 * Folders named `google` at the top of a directory are import-only: they hold no services to expose.
 */
export function loadProtos(dirs: readonly string[]): protobuf.Root {
  const includeDirs = dirs.map((d) => resolve(d));
  for (const d of includeDirs) {
    if (!existsSync(d) || !statSync(d).isDirectory()) {
      throw new LoadError("PROTO_NOT_FOUND", d, "proto directory does not exist");
    }
  }
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => resolveImport(includeDirs, origin, target);
  const files = [
    ...ALWAYS_LOADED,
    ...includeDirs.flatMap((d) => findProtoFiles(d).map((f) => relative(d, f).split(sep).join("/"))),
  ];
  try {
    root.loadSync(files, { keepCase: true, alternateCommentMode: true });
  } catch (err) {
    throw toLoadError(err, "PROTO_SYNTAX");
  }
  try {
    root.resolveAll();
  } catch (err) {
    throw toLoadError(err, "PROTO_RESOLVE");
  }
  return root;
}

function resolveImport(includeDirs: readonly string[], origin: string, target: string): string {
  if (isAbsolute(target)) return target;
  for (const dir of includeDirs) {
    const candidate = join(dir, target);
    if (existsSync(candidate)) return candidate;
  }
  const builtin = join(BUILTIN_PROTO_DIR, target);
  if (existsSync(builtin)) return builtin;
  throw new LoadError(
    "PROTO_NOT_FOUND",
    origin || target,
    `import "${target}" not found in ${includeDirs.join(", ") || "(no proto dirs)"} or the built-in protos`,
  );
}

function findProtoFiles(dir: string, top = true): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    if (top && entry.name === "google" && entry.isDirectory()) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findProtoFiles(full, false));
    else if (entry.name.endsWith(".proto")) out.push(full);
  }
  return out.sort();
}

/** protobufjs reports "message (file, line N)"; keep that, add a stable code. */
function toLoadError(err: unknown, code: "PROTO_SYNTAX" | "PROTO_RESOLVE"): LoadError {
  if (err instanceof LoadError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const where = /\(([^,()]+\.proto), line (\d+)\)/.exec(message);
  return new LoadError(code, where ? `${where[1]}:${where[2]}` : "protos", message, { cause: err });
}
