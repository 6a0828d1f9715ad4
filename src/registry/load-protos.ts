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
 * Throws a LoadError naming the file (and line) of the first problem.
 */
export function loadProtos(dirs: readonly string[]): protobuf.Root {
  const includeDirs = checkDirs(dirs);
  const files = protoFiles(includeDirs);
  try {
    return loadFiles(includeDirs, [...ALWAYS_LOADED, ...files.map((f) => f.name)]);
  } catch (err) {
    // protobufjs sometimes loses the file name of a syntax error: find the file it came from
    throw diagnose(includeDirs, files).errors[0] ?? err;
  }
}

/**
 * Like loadProtos, but for `protogate check` and reloads: reports the problem of every broken file (with
 * its file, and line where the parser gives it) and returns the Root of the files that do load, so that
 * their own problems (rules, routes) can be reported in the same run. Undefined when the files that load
 * still conflict with each other (that error is reported). Throws only for a missing proto directory.
 */
export function loadProtosReporting(
  dirs: readonly string[],
  report: (err: LoadError) => void,
): protobuf.Root | undefined {
  const includeDirs = checkDirs(dirs);
  const files = protoFiles(includeDirs);
  try {
    return loadFiles(includeDirs, [...ALWAYS_LOADED, ...files.map((f) => f.name)]);
  } catch (err) {
    const { errors, loadable } = diagnose(includeDirs, files);
    for (const e of errors) report(e);
    try {
      if (errors.length === 0) throw err; // each file loads alone: they conflict with each other
      return loadFiles(includeDirs, [...ALWAYS_LOADED, ...loadable]);
    } catch (rest) {
      const e = rest instanceof LoadError ? rest : toLoadError(rest, new protobuf.Root());
      if (!errors.some((d) => d.message === e.message)) report(e);
      return undefined;
    }
  }
}

/**
 * Names every broken file (protobufjs stops at the first error). Errors that several files share (a
 * broken import) are reported once.
 */
export function diagnoseProtos(dirs: readonly string[]): LoadError[] {
  const includeDirs = checkDirs(dirs);
  return diagnose(includeDirs, protoFiles(includeDirs)).errors;
}

/** The .proto files of the include directories: path on disk, and name relative to its directory. */
interface ProtoFile {
  readonly path: string;
  readonly name: string;
}

/**
 * The .proto files that loadProtos would load from these directories (paths on disk; import-only folders
 * left out): an empty list means these directories bring no service. Throws PROTO_NOT_FOUND for a
 * directory that does not exist.
 */
export function listProtoFiles(dirs: readonly string[]): string[] {
  return protoFiles(checkDirs(dirs)).map((f) => f.path);
}

function protoFiles(includeDirs: readonly string[]): ProtoFile[] {
  return includeDirs.flatMap((d) =>
    findProtoFiles(d).map((path) => ({ path, name: relative(d, path).split(sep).join("/") })),
  );
}

/**
 * First each file's syntax on its own (so that an error is always attributed to its file), then each
 * file that parses with its imports: the ones that load alone are `loadable`.
 */
function diagnose(
  includeDirs: readonly string[],
  files: readonly ProtoFile[],
): { errors: LoadError[]; loadable: string[] } {
  const seen = new Map<string, LoadError>();
  const add = (e: LoadError) => {
    if (!seen.has(e.message)) seen.set(e.message, e);
  };
  const unparsable = new Set<string>();
  for (const file of files) {
    const problem = syntaxError(file.path);
    if (problem) {
      add(problem);
      unparsable.add(file.path);
    }
  }
  const loadable: string[] = [];
  for (const file of files) {
    if (unparsable.has(file.path)) continue;
    try {
      loadFiles(includeDirs, [...ALWAYS_LOADED, file.name]);
      loadable.push(file.name);
    } catch (err) {
      if (!(err instanceof LoadError)) throw err;
      // A syntax error here is an imported file's, already reported by its own parse.
      if (err.code !== "PROTO_SYNTAX" || unparsable.size === 0) add(err);
    }
  }
  return { errors: [...seen.values()], loadable };
}

/** protobufjs's parser names the file in its errors from this global (not in its typings). */
const parser = protobuf.parse as unknown as { filename: string | null };

/** The file's syntax error, at file:line (protobufjs does not always name the file in its message). */
function syntaxError(path: string): LoadError | undefined {
  try {
    parser.filename = path;
    protobuf.parse(readFileSync(path, "utf8"), new protobuf.Root(), {
      keepCase: true,
      alternateCommentMode: true,
    });
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const line = /\bline (\d+)\)$/.exec(message)?.[1];
    return new LoadError("PROTO_SYNTAX", line ? `${path}:${line}` : path, message, { cause: err });
  } finally {
    parser.filename = null;
  }
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
