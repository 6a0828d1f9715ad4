import type { FieldInfo } from "../codec/index.js";
import type { MethodDescriptor } from "../registry/registry.js";
import type { Route } from "../routing/route.js";
import type { Invoke } from "../upstream/call.js";
import type { MergeRule } from "./config.js";

/**
 * A composition checked against the descriptors (check.ts): what the executor (run.ts) follows.
 * Calls and sources refer to each other by index; field paths are resolved to FieldInfo chains.
 */
export interface Composition {
  readonly calls: readonly PlannedCall[];
  /** Output keys in declared order (first appearance), each with its parts. */
  readonly output: readonly OutputKey[];
}

/** Where a request field's value comes from. */
export type Source =
  /** A path template variable, by its index in the template (text). */
  | { readonly kind: "path"; readonly index: number }
  /** A query parameter (text; every value when the target is repeated). */
  | { readonly kind: "query"; readonly name: string }
  /** A scalar of the JSON body by key path. */
  | { readonly kind: "body"; readonly path: readonly string[] }
  /** An earlier call's result (chain empty) or one of its fields. */
  | { readonly kind: "call"; readonly call: number; readonly chain: readonly FieldInfo[] }
  /** The current forEach element (chain empty) or one of its fields. */
  | { readonly kind: "item"; readonly chain: readonly FieldInfo[] };

export interface PlannedField {
  /** The request field set, as a chain from the method's input. */
  readonly chain: readonly FieldInfo[];
  readonly source: Source;
}

export interface PlannedCall {
  readonly name: string;
  readonly method: MethodDescriptor;
  /** The method's own route (its target and interceptor chain when bound by the server). */
  readonly route: Route;
  readonly invoke: Invoke | undefined;
  readonly required: boolean;
  readonly timeoutMs: number | undefined;
  readonly fields: readonly PlannedField[];
  /** Indices of the calls whose results this one reads (request or forEach). */
  readonly deps: readonly number[];
  readonly forEach:
    | { readonly source: Source; readonly maxItems: number; readonly concurrency: number }
    | undefined;
}

export interface OutputKey {
  readonly key: string;
  readonly merge: MergeRule | undefined;
  readonly parts: ReadonlyArray<{
    readonly call: number;
    readonly chain: readonly FieldInfo[];
    readonly from: string;
  }>;
}
