import { decodeMultiSegment, decodeSegment } from "./decode.js";
import type { PathTemplate } from "./template.js";

/**
 * A segment trie over path templates. At every segment a literal child is tried before `*`, and `*`
 * before `**`, with backtracking, so priority does not depend on the order rules were declared in.
 * Routes are keyed at the leaf by custom verb and HTTP method; a request with a method no route takes
 * still finds the path, which gives 405 and `Allow`.
 */

export interface Match<T> {
  readonly route: T;
  readonly template: PathTemplate;
  /** The request's raw (still encoded) path segments, verb removed. */
  readonly segments: readonly string[];
}

interface Leaf<T> {
  /** verb -> HTTP method -> route */
  readonly byVerb: Map<string, Map<string, { route: T; template: PathTemplate }>>;
}

interface Node<T> {
  readonly literals: Map<string, Node<T>>;
  wildcard: Node<T> | undefined;
  deep: Leaf<T> | undefined;
  leaf: Leaf<T> | undefined;
}

export class DuplicateRouteError<T> extends Error {
  constructor(
    readonly existing: T,
    readonly added: T,
    message: string,
  ) {
    super(message);
    this.name = "DuplicateRouteError";
  }
}

const newNode = <T>(): Node<T> => ({
  literals: new Map(),
  wildcard: undefined,
  deep: undefined,
  leaf: undefined,
});

export class Router<T> {
  private readonly root: Node<T> = newNode();
  /** Verbs some route declares: a colon suffix that is not one of them stays part of the segment. */
  private readonly verbs = new Set<string>();

  constructor(private readonly describe: (route: T) => string = String) {}

  add(method: string, template: PathTemplate, route: T): void {
    let node = this.root;
    let leaf: Leaf<T> | undefined;
    for (const seg of template.segments) {
      if (seg.kind === "literal") {
        let next = node.literals.get(seg.value);
        if (!next) node.literals.set(seg.value, (next = newNode()));
        node = next;
      } else if (seg.kind === "wildcard") {
        node = node.wildcard ??= newNode();
      } else {
        leaf = node.deep ??= { byVerb: new Map() };
      }
    }
    leaf ??= node.leaf ??= { byVerb: new Map() };
    let byMethod = leaf.byVerb.get(template.verb);
    if (!byMethod) leaf.byVerb.set(template.verb, (byMethod = new Map()));
    const existing = byMethod.get(method);
    if (existing) {
      throw new DuplicateRouteError(
        existing.route,
        route,
        `${method} ${template.source} is bound by both ${this.describe(existing.route)} and ${this.describe(route)}`,
      );
    }
    byMethod.set(method, { route, template });
    if (template.verb) this.verbs.add(template.verb);
  }

  /** Finds the route for a method and a path (no query string). */
  find(method: string, path: string): Match<T> | undefined {
    return this.lookup(path, (leaf, verb) => leaf.byVerb.get(verb)?.get(method));
  }

  /** The methods that some route takes at this path, for 405's `Allow`. */
  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    this.lookup(path, (leaf, verb) => {
      for (const m of leaf.byVerb.get(verb)?.keys() ?? []) methods.add(m);
      return undefined; // keep walking every branch
    });
    return [...methods].sort();
  }

  private lookup(
    path: string,
    pick: (leaf: Leaf<T>, verb: string) => { route: T; template: PathTemplate } | undefined,
  ): Match<T> | undefined {
    const segments = splitPath(path);
    const last = segments[segments.length - 1];
    if (last !== undefined && this.verbs.size > 0) {
      const colon = last.lastIndexOf(":");
      if (colon > 0 && this.verbs.has(last.slice(colon + 1))) {
        const withoutVerb = segments.slice(0, -1);
        withoutVerb.push(last.slice(0, colon));
        const hit = walk(this.root, withoutVerb, 0, last.slice(colon + 1), pick);
        if (hit) return { route: hit.route, template: hit.template, segments: withoutVerb };
      }
    }
    const hit = walk(this.root, segments, 0, "", pick);
    return hit && { route: hit.route, template: hit.template, segments };
  }
}

/**
 * "/a/b" -> ["a", "b"]; "/" -> []. A scan, not `slice(1).split("/")`: V8 caches split results only for
 * internalized strings, and a request's path never is one (measured 3x slower on every lookup).
 */
function splitPath(path: string): string[] {
  const out: string[] = [];
  if (path === "/") return out;
  let start = 1;
  for (;;) {
    const end = path.indexOf("/", start);
    if (end === -1) {
      out.push(path.substring(start));
      return out;
    }
    out.push(path.substring(start, end));
    start = end + 1;
  }
}

function walk<T>(
  node: Node<T>,
  segments: readonly string[],
  i: number,
  verb: string,
  pick: (leaf: Leaf<T>, verb: string) => { route: T; template: PathTemplate } | undefined,
): { route: T; template: PathTemplate } | undefined {
  if (i === segments.length) {
    return (node.leaf && pick(node.leaf, verb)) || (node.deep && pick(node.deep, verb));
  }
  const seg = segments[i]!;
  const literal = node.literals.get(seg) ?? (seg.includes("%") ? literalChild(node, seg) : undefined);
  if (literal) {
    const hit = walk(literal, segments, i + 1, verb, pick);
    if (hit) return hit;
  }
  if (node.wildcard && seg !== "") {
    const hit = walk(node.wildcard, segments, i + 1, verb, pick);
    if (hit) return hit;
  }
  return node.deep && pick(node.deep, verb);
}

/** A literal may arrive percent-encoded (`/v1/%62ooks`); compare it decoded. */
function literalChild<T>(node: Node<T>, seg: string): Node<T> | undefined {
  try {
    return node.literals.get(decodeMultiSegment(seg));
  } catch {
    return undefined;
  }
}

/** Values of the template's variables, decoded per the single/multi-segment rules. */
export function bindVariables(
  template: PathTemplate,
  segments: readonly string[],
): Array<{ fieldPath: readonly string[]; value: string }> {
  const out: Array<{ fieldPath: readonly string[]; value: string }> = [];
  for (const v of template.variables) {
    const deep = template.segments[v.end - 1]?.kind === "deep";
    const end = deep ? segments.length : v.end;
    if (end - v.start === 1 && !deep) {
      out.push({ fieldPath: v.fieldPath, value: decodeSegment(segments[v.start]!) });
    } else {
      out.push({ fieldPath: v.fieldPath, value: decodeMultiSegment(segments.slice(v.start, end).join("/")) });
    }
  }
  return out;
}
