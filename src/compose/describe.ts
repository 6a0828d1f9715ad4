import type { CompositeRoute } from "./route.js";

/** Composite routes as `/_protogate/routes` lists them: method, path and each call. */
export function describeComposites(composites: readonly CompositeRoute[]): unknown[] {
  return composites.map((c) => ({
    method: c.httpMethod,
    path: c.template.source,
    calls: c.composition.calls.map((x) => ({
      name: x.name,
      rpc: x.method.fullName,
      required: x.required,
      after: x.deps.map((d) => c.composition.calls[d]!.name),
      ...(x.forEach ? { forEach: { maxItems: x.forEach.maxItems, concurrency: x.forEach.concurrency } } : {}),
    })),
    output: c.composition.output.map((o) => o.key),
  }));
}
