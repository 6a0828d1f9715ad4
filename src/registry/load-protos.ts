import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import protobuf from "protobufjs";
import { LoadError } from "../config/load-error.js";
import { ALWAYS_LOADED, BUILTIN_PROTO_DIR } from "./builtin.js";
import { checkProtoText } from "./reserved-names.js";

/**
 * Loads every .proto under the given directories into one protobufjs Root. Imports resolve against the
 * directories in order (like protoc's -I), then against protogate's built-in protos.
 * Folders named `google` and `protogate` at the top of a directory are import-only (protogate ships
 * them): they hold no services to expose.
 */
export function loadProtos(dirs: readonly string[]): protobuf.Root {
  const includeDirs = checkDirs(dirs);
  const files = includeDirs.flatMap((d) => findProtoFiles(d).map((f) => relative(d, f).split(sep).join("/")));
  return loadFiles(includeDirs, [...ALWAYS_LOADED, ...files]);
}

/**
 * When the whole set does not load, loads each file on its own to name every broken one (protobufjs stops
 * at the first error). Errors that several files share (a broken import) are reported once.
 */
export function diagnoseProtos(dirs: readonly string[]): LoadError[] {
  const includeDirs = checkDirs(dirs);
  const seen = new Map<string, LoadError>();
  for (const dir of includeDirs) {
    for (const file of findProtoFiles(dir)) {
      try {
        loadFiles(includeDirs, [...ALWAYS_LOADED, relative(dir, file).split(sep).join("/")]);
      } catch (err) {
        if (err instanceof LoadError && !seen.has(err.message)) seen.set(err.message, err);
      }
    }
  }
  return [...seen.values()];
}

function checkDirs(dirs: readonly string[]): string[] {
  const includeDirs = dirs.map((d) => resolve(d));
  for (const d of includeDirs) {
    if (!existsSync(d) || !statSync(d).isDirectory()) {
      throw new LoadError("PROTO_NOT_FOUND", d, "proto directory does not exist");
    }
  }
  return includeDirs;
}

function loadFiles(includeDirs: readonly string[], files: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => resolveImport(includeDirs, origin, target);
  try {
    root.loadSync([...files], { keepCase: true, alternateCommentMode: true });
    root.resolveAll();
  } catch (err) {
    throw toLoadError(err, root);
  }
  // The user's files (protobufjs's bundled google/protobuf files have no path on disk).
  for (const file of root.files) {
    if (isAbsolute(file) && !file.startsWith(BUILTIN_PROTO_DIR))
      checkProtoText(readFileSync(file, "utf8"), file);
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
    if (top && (entry.name === "google" || entry.name === "protogate") && entry.isDirectory()) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findProtoFiles(full, false));
    else if (entry.name.endsWith(".proto")) out.push(full);
  }
  return out.sort();
}

/**
 * protobufjs reports syntax errors as "message (file, line N)" and unresolved names as
 * "no such Type or Enum 'X' in Type .pkg.M"; keep its words, add a stable code and the file.
 */
function toLoadError(err: unknown, root: protobuf.Root): LoadError {
  if (err instanceof LoadError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const syntax = /\(([^,()]+\.proto), line (\d+)\)/.exec(message);
  if (syntax) return new LoadError("PROTO_SYNTAX", `${syntax[1]}:${syntax[2]}`, message, { cause: err });
  const unresolved = /^no such .* in \w+ (\S+)$/.exec(message);
  if (unresolved) {
    let file = "protos";
    try {
      file = root.lookup(unresolved[1]!)?.filename ?? file;
    } catch {
      // the referrer itself is not reachable; keep the generic place
    }
    return new LoadError("PROTO_RESOLVE", file, message, { cause: err });
  }
  return new LoadError("PROTO_SYNTAX", "protos", message, { cause: err });
}
