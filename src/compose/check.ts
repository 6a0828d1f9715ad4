import type { FieldInfo, MessageInfo } from "../codec/index.js";
import type { Element } from "../codec/message-info.js";
import { LoadError, type LoadErrorCode } from "../config/load-error.js";
import { withLine } from "../config/yaml-file.js";
import type { MethodDescriptor, ProtoRegistry } from "../registry/registry.js";
import type { Route } from "../routing/route.js";
import type { PathTemplate } from "../routing/template.js";
import type { Invoke } from "../upstream/call.js";
import type { CallDecl, CompositionDecl } from "./config.js";
import type { Composition, OutputKey, PlannedCall, PlannedField, Source } from "./plan.js";

/** The type a source yields: text (path, query, body scalars) or a typed proto value. */
type ValueType =
  | { readonly kind: "text"; readonly many: boolean }
  | {
      readonly kind: "typed";
      readonly element: Element;
      readonly repeated: boolean;
      readonly mapKey: string | undefined;
    };

/** The method's own route for a part, bound to its target and interceptors when served. */
export type PartRoute = (method: MethodDescriptor) => Route;

/**
 * Checks a declared composition against the descriptors and plans it: every method exists and is
 * unary; every field path read or written exists and the types agree (same scalar, enum or message
 * type; lists to lists); the calls have no dependency cycle; output keys are unique unless a merge rule
 * says how they combine (and "object" merges have no field in common).
 * @throws LoadError COMPOSE_FIELD, COMPOSE_CYCLE or COMPOSE_OUTPUT, where = "file:line: path".
 */
export function checkComposition(
  decl: CompositionDecl,
  template: PathTemplate,
  registry: ProtoRegistry,
  part: PartRoute,
): Composition {
  const fail = (code: LoadErrorCode, where: string, detail: string): never => {
    throw new LoadError(code, withLine(decl.file, where), detail);
  };
  const index = new Map(decl.calls.map((c, i) => [c.name, i]));
  const methods = decl.calls.map((c) => {
    const m = registry.methods.find((x) => x.fullName === c.method);
    if (!m) return fail("COMPOSE_FIELD", `${c.where}.method`, `no loaded proto declares ${c.method}`);
    if (m.clientStreaming || m.serverStreaming)
      return fail("COMPOSE_FIELD", `${c.where}.method`, `${c.method} is a streaming method`);
    return m;
  });
  const vars = template.variables.map((v) => v.fieldPath.join("."));

  /** The source's plan and value type; `self` is the call reading it (for item and dependencies). */
  const resolve = (
    text: string,
    where: string,
    self: CallDecl | undefined,
    deps: Set<number>,
  ): { source: Source; type: ValueType } => {
    const [head, ...rest] = text.split(".");
    if (head === "path") {
      const i = vars.indexOf(rest.join("."));
      if (i < 0)
        fail(
          "COMPOSE_FIELD",
          where,
          `"${text}": the template ${decl.path} has no variable {${rest.join(".")}}`,
        );
      return {
        source: { kind: "path", index: i } as Source,
        type: { kind: "text", many: false } as ValueType,
      };
    }
    if (head === "query" || head === "body") {
      if (rest.length === 0 || rest.some((s) => s === ""))
        fail("COMPOSE_FIELD", where, `"${text}" names no parameter`);
      const source: Source =
        head === "query" ? { kind: "query", name: rest.join(".") } : { kind: "body", path: rest };
      return { source, type: { kind: "text", many: true } as ValueType };
    }
    if (head === "item") {
      if (!self?.forEach) return fail("COMPOSE_FIELD", where, `"item" is only known in a call with forEach`);
      const each: ValueType = resolve(self.forEach, `${self.where}.forEach`, undefined, deps).type;
      if (each.kind === "text") {
        if (rest.length > 0) fail("COMPOSE_FIELD", where, `"${text}": the forEach elements are text`);
        return {
          source: { kind: "item", chain: [] } as Source,
          type: { kind: "text", many: false } as ValueType,
        };
      }
      const chain = walk(each.element, rest, text, where);
      return { source: { kind: "item", chain } as Source, type: typeOf(each.element, chain) };
    }
    const call = index.get(head!);
    if (call === undefined)
      return fail(
        "COMPOSE_FIELD",
        where,
        `"${text}" starts with neither path, query, body, item nor a call name`,
      );
    deps.add(call);
    const target = decl.calls[call]!;
    const output: Element = { kind: "message", message: () => methods[call]!.output };
    if (target.forEach) {
      if (rest.length > 0)
        fail("COMPOSE_FIELD", where, `"${text}": ${head} runs forEach, its result is a list: read it whole`);
      return {
        source: { kind: "call", call, chain: [] } as Source,
        type: { kind: "typed", element: output, repeated: true, mapKey: undefined } as ValueType,
      };
    }
    const chain = walk(output, rest, text, where);
    return { source: { kind: "call", call, chain } as Source, type: typeOf(output, chain) };
  };

  /** Follows a field path from a message element; every step but the last is a singular message. */
  const walk = (from: Element, path: readonly string[], text: string, where: string): FieldInfo[] => {
    const chain: FieldInfo[] = [];
    let e = from;
    for (const name of path) {
      if (e.kind !== "message" || chain[chain.length - 1]?.repeated)
        fail("COMPOSE_FIELD", where, `"${text}": cannot read "${name}" inside a list or a non-message`);
      const info = (e as { message: () => MessageInfo }).message();
      const f = info.byName.get(name);
      if (!f) return fail("COMPOSE_FIELD", where, `"${text}": ${info.fullName} has no field "${name}"`);
      chain.push(f);
      e = f.element;
    }
    return chain;
  };

  const calls: PlannedCall[] = decl.calls.map((c, i) => {
    const method = methods[i]!;
    const deps = new Set<number>();
    let forEach: PlannedCall["forEach"];
    if (c.forEach) {
      const each = resolve(c.forEach, `${c.where}.forEach`, undefined, deps);
      const list = each.type.kind === "text" ? each.type.many : each.type.repeated && !each.type.mapKey;
      if (!list || each.source.kind === "path")
        fail(
          "COMPOSE_FIELD",
          `${c.where}.forEach`,
          `"${c.forEach}" is not a list (a repeated field or query parameter)`,
        );
      forEach = { source: each.source, maxItems: c.maxItems, concurrency: c.concurrency };
    }
    const fields: PlannedField[] = c.request.map(({ field, source }) => {
      const where = `${c.where}.request.${field}`;
      const chain = walk({ kind: "message", message: () => method.input }, field.split("."), field, where);
      const r = resolve(source, where, c, deps);
      const problem = compatible(r.type, chain[chain.length - 1]!);
      if (problem) fail("COMPOSE_FIELD", where, `${source} -> ${method.input.fullName}.${field}: ${problem}`);
      return { chain, source: r.source };
    });
    if (deps.has(i)) fail("COMPOSE_CYCLE", c.where, `${c.name} reads its own result`);
    const route = part(method);
    const invoke = (route as Route & { invoke?: Invoke }).invoke;
    return {
      name: c.name,
      method,
      route,
      invoke,
      required: c.required,
      timeoutMs: c.timeoutMs,
      fields,
      deps: [...deps],
      forEach,
    };
  });
  findCycle(calls, (i, path) =>
    fail(
      "COMPOSE_CYCLE",
      decl.calls[i]!.where,
      `calls depend on each other in a cycle: ${path.join(" -> ")}`,
    ),
  );
  return { calls, output: planOutput(decl, calls, index, resolve, fail) };
}

/** Why a value of type `t` cannot be written to field `f`; undefined when it can. */
function compatible(t: ValueType, f: FieldInfo): string | undefined {
  if (t.kind === "text") {
    if (f.mapKey) return "text cannot fill a map";
    if (
      f.element.kind === "message" &&
      !["Timestamp", "Duration", "FieldMask", "Wrapper"].includes(f.element.message().wkt ?? "")
    )
      return "text cannot fill a message field";
    return undefined;
  }
  if (t.repeated !== f.repeated || (t.mapKey ?? "") !== (f.mapKey ?? ""))
    return t.repeated ? "a list cannot fill a single field" : "a single value cannot fill a list";
  const a = t.element;
  const b = f.element;
  const name = (e: Element) =>
    e.kind === "scalar" ? e.scalar : e.kind === "enum" ? e.enum.fullName : e.message().fullName;
  return a.kind === b.kind && name(a) === name(b) ? undefined : `types differ (${name(a)} vs ${name(b)})`;
}

function typeOf(from: Element, chain: readonly FieldInfo[]): ValueType {
  const last = chain[chain.length - 1];
  if (!last) return { kind: "typed", element: from, repeated: false, mapKey: undefined };
  return { kind: "typed", element: last.element, repeated: last.repeated, mapKey: last.mapKey };
}

/** Depth-first search for a cycle; calls `found` with the first call and the path of names. */
function findCycle(calls: readonly PlannedCall[], found: (i: number, path: string[]) => void): void {
  const state = new Array<0 | 1 | 2>(calls.length).fill(0);
  const stack: number[] = [];
  const visit = (i: number): void => {
    if (state[i] === 2) return;
    if (state[i] === 1) {
      const from = stack.indexOf(i);
      found(
        i,
        [...stack.slice(from), i].map((j) => calls[j]!.name),
      );
      return;
    }
    state[i] = 1;
    stack.push(i);
    for (const d of calls[i]!.deps) visit(d);
    stack.pop();
    state[i] = 2;
  };
  for (let i = 0; i < calls.length; i++) visit(i);
}

function planOutput(
  decl: CompositionDecl,
  calls: readonly PlannedCall[],
  index: ReadonlyMap<string, number>,
  resolve: (
    text: string,
    where: string,
    self: undefined,
    deps: Set<number>,
  ) => { source: Source; type: ValueType },
  fail: (code: LoadErrorCode, where: string, detail: string) => never,
): OutputKey[] {
  const keys = new Map<
    string,
    { merge: OutputKey["merge"]; parts: Array<OutputKey["parts"][number] & { type: ValueType }> }
  >();
  for (const o of decl.output) {
    if (o.key === "errors")
      fail("COMPOSE_OUTPUT", `${o.where}.key`, `"errors" is where failed optional calls are listed`);
    if (!index.has(o.from.split(".")[0]!))
      fail("COMPOSE_OUTPUT", `${o.where}.from`, `"${o.from}" does not start with a call name`);
    const r = resolve(o.from, `${o.where}.from`, undefined, new Set());
    const s = r.source as Extract<Source, { kind: "call" }>;
    let entry = keys.get(o.key);
    if (!entry) keys.set(o.key, (entry = { merge: o.merge, parts: [] }));
    else if (!o.merge || o.merge !== entry.merge)
      fail(
        "COMPOSE_OUTPUT",
        `${o.where}.key`,
        `output key "${o.key}" is used twice; give every entry of it the same merge rule (concat or object)`,
      );
    entry.parts.push({ call: s.call, chain: s.chain, from: o.from, type: r.type });
    if (o.merge === "concat" && !(r.type.kind === "typed" && r.type.repeated && !r.type.mapKey))
      fail("COMPOSE_OUTPUT", `${o.where}.merge`, `concat needs a list; "${o.from}" is not one`);
    if (o.merge === "object") {
      const t = r.type;
      if (t.kind !== "typed" || t.repeated || t.element.kind !== "message")
        return fail("COMPOSE_OUTPUT", `${o.where}.merge`, `object needs a message; "${o.from}" is not one`);
      const mine = new Set(t.element.message().fields.map((f) => f.jsonName));
      for (const other of entry.parts.slice(0, -1)) {
        const e = (other.type as { element: Element }).element as { message: () => MessageInfo };
        const common = e.message().fields.find((f) => mine.has(f.jsonName));
        if (common)
          fail(
            "COMPOSE_OUTPUT",
            `${o.where}.from`,
            `"${o.from}" and "${other.from}" both have "${common.jsonName}"`,
          );
      }
    }
  }
  void calls;
  return [...keys].map(([key, { merge, parts }]) => ({
    key,
    merge,
    parts: parts.map(({ call, chain, from }) => ({ call, chain, from })),
  }));
}
