import {
  defaultScalar,
  type FieldInfo,
  type FieldValue,
  fieldToJson,
  type JsonWriteOptions,
  type Msg,
  messageToJson,
} from "../codec/index.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { UpstreamResult } from "../upstream/call.js";
import type { Composition } from "./plan.js";
import type { RunOutcome } from "./run.js";

/**
 * A singular field without presence at its default, as `json.emitUnpopulated` prints it (message fields
 * have presence: an unset one is left out).
 */
function unpopulated(f: FieldInfo, write: JsonWriteOptions): unknown {
  const e = f.element;
  return fieldToJson(f, e.kind === "scalar" ? defaultScalar(e.scalar) : 0, write);
}

/** The response header that marks an answer missing the parts of failed optional calls. */
export const PARTIAL_HEADER = "protogate-partial";

/**
 * The composite answer: output keys in declared order, each call's result (or field) rendered with the
 * proto3 JSON codec and the route's options; parts of failed optional calls are left out and listed in
 * `errors` ({call, field, code, message, details}), with `Protogate-Partial: true`.
 * @throws GatewayError INTERNAL when a backend's answer has no JSON form.
 */
export function renderComposite(
  plan: Composition,
  outcome: RunOutcome,
  write: JsonWriteOptions,
): UpstreamResult {
  const body: Record<string, unknown> = {};
  const errors: unknown[] = [];
  const listed = new Set<number>();
  try {
    for (const { key, merge, parts } of plan.output) {
      for (const part of parts) {
        const call = plan.calls[part.call]!;
        const err = outcome.errors[part.call];
        if (err) {
          if (!listed.has(part.call))
            errors.push({
              call: call.name,
              field: key,
              code: err.code,
              message: err.message,
              details: err.details,
            });
          listed.add(part.call);
          continue;
        }
        const value = outcome.results[part.call];
        let json: unknown;
        if (Array.isArray(value)) json = value.map((m) => messageToJson(call.method.output, m, write));
        else if (part.chain.length === 0) json = messageToJson(call.method.output, value ?? {}, write);
        else {
          let parent: FieldValue | undefined = value;
          for (const f of part.chain.slice(0, -1))
            parent = parent === undefined ? undefined : (parent as Msg)[f.name];
          const last = part.chain[part.chain.length - 1]!;
          const v = parent === undefined ? undefined : (parent as Msg)[last.name];
          if (v !== undefined) json = fieldToJson(last, v, write);
          else if (last.mapKey) json = {};
          else if (last.repeated) json = [];
          else if (parent !== undefined && write.emitUnpopulated && !last.explicitPresence)
            json = unpopulated(last, write);
          else continue;
        }
        if (merge === "concat")
          body[key] = [...((body[key] as unknown[] | undefined) ?? []), ...(json as unknown[])];
        else if (merge === "object")
          body[key] = { ...(body[key] as object | undefined), ...(json as object) };
        else body[key] = json;
      }
    }
  } catch (err) {
    throw new GatewayError(Code.INTERNAL, "a backend's answer cannot be rendered as JSON", { cause: err });
  }
  if (errors.length > 0) body.errors = errors;
  return {
    httpStatus: 200,
    headers: errors.length > 0 ? { [PARTIAL_HEADER]: "true" } : {},
    body: { contentType: "application/json; charset=utf-8", bytes: JSON.stringify(body) }, // whole: see transcode/response.ts
  };
}
