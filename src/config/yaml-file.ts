import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { LoadError } from "./load-error.js";

/**
 * Reads a YAML file and hands its value to `read`. A LoadError that `read` throws about a place in
 * the file ("file: http.rules[2].get") comes back with that place's line ("file:14: http.rules[2].get"):
 * people fix files by line, and an editor opens `file:line` directly. An error with several problems
 * (a schema check) gets a line for each, sorted by line.
 */
export function readYamlFile<T>(file: string, read: (value: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new LoadError("CONFIG_INVALID", file, (err as Error).message, { cause: err });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const syntax = doc.errors[0];
  if (syntax) throw new LoadError("CONFIG_INVALID", file, syntax.message, { cause: syntax });
  try {
    return read(doc.toJS());
  } catch (err) {
    if (!(err instanceof LoadError)) throw err;
    const located = err.problems.map((p, i) => {
      const path = pathIn(file, p.where);
      const offset = path === undefined ? undefined : offsetOf(doc.contents, path);
      if (offset === undefined) return { ...p, line: Number.POSITIVE_INFINITY, i };
      const line = lines.linePos(offset).line;
      return { where: `${file}:${line}: ${path}`, detail: p.detail, line, i };
    });
    // In the order of the file: the first problem is the one to fix first.
    located.sort((a, b) => a.line - b.line || a.i - b.i);
    const problems = located.map(({ where, detail }) => ({ where, detail }));
    if (problems.every((p, i) => p.where === err.problems[i]!.where)) throw err;
    throw LoadError.of(err.code, problems, { cause: err.cause });
  }
}

/** "file: a.b" and "file.a" (a top-level key) -> "a.b"; undefined when `where` is not in this file. */
function pathIn(file: string, where: string): string | undefined {
  if (where.startsWith(`${file}: `)) return where.slice(file.length + 2);
  if (where.startsWith(`${file}.`)) return where.slice(file.length + 1);
  return undefined;
}

/**
 * The offset of the deepest node a path like `methods.pkg.Svc.M.timeout` or `rules[2].get` reaches.
 * Keys may hold dots (method selectors), so at each mapping the longest key the path starts with wins.
 */
function offsetOf(root: unknown, path: string): number | undefined {
  let node = root;
  let rest = path;
  let offset: number | undefined;
  while (rest.length > 0) {
    const index = /^\[(\d+)\]\.?/.exec(rest);
    if (index && isSeq(node)) {
      node = node.items[Number(index[1])];
      rest = rest.slice(index[0].length);
      offset = (node as Node | undefined)?.range?.[0] ?? offset;
      continue;
    }
    if (!isMap(node)) break;
    let best: { key: string; keyNode: unknown; value: unknown } | undefined;
    for (const pair of node.items) {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const fits = rest === key || rest.startsWith(`${key}.`) || rest.startsWith(`${key}[`);
      if (fits && (!best || key.length > best.key.length))
        best = { key, keyNode: pair.key, value: pair.value };
    }
    if (!best) break;
    offset = (best.keyNode as Node).range?.[0] ?? offset;
    node = best.value;
    rest = rest.slice(best.key.length).replace(/^\./, "");
  }
  return offset;
}
