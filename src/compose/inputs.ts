import type { JsonReadOptions } from "../codec/index.js";
import {
  decodeMessage,
  type FieldInfo,
  type FieldValue,
  JsonMappingError,
  type Msg,
  messageFromJsonText,
} from "../codec/index.js";
import { Code } from "../errors/code.js";
import { GatewayError, invalidArgument } from "../errors/gateway-error.js";
import { bindVariables } from "../routing/router.js";
import type { PathTemplate } from "../routing/template.js";
import { paramValue } from "../transcode/param-value.js";
import { parseQueryString } from "../transcode/query-string.js";
import { appendField, setField } from "../transcode/set-field.js";
import type { UpstreamResult } from "../upstream/call.js";
import type { PlannedCall, Source } from "./plan.js";

/** What the HTTP request offers to a composition's sources, parsed once per request. */
export interface RequestInputs {
  readonly path: readonly string[];
  readonly query: ReadonlyMap<string, string[]>;
  /** The JSON body, parsed on first use; undefined when there is none. */
  body(): unknown;
}

/**
 * The inputs of one request: path variables decoded as for proto routes, the query string, the body.
 * @throws GatewayError INVALID_ARGUMENT (400) from body() for a body that is not JSON.
 */
export function requestInputs(
  template: PathTemplate,
  segments: readonly string[],
  query: string,
  body: Buffer | undefined,
): RequestInputs {
  let parsed: { value: unknown } | undefined;
  return {
    path: bindVariables(template, segments).map((v) => v.value),
    query: parseQueryString(query),
    body() {
      if (!parsed) {
        try {
          parsed = { value: body && body.length > 0 ? JSON.parse(body.toString("utf8")) : undefined };
        } catch (err) {
          throw invalidArgument("the request body is not JSON", err);
        }
      }
      return parsed.value;
    },
  };
}

/** The value(s) a source yields: a list of text, a typed value, or undefined when absent. */
export function readSource(
  s: Source,
  inputs: RequestInputs,
  results: ReadonlyArray<Msg | Msg[] | undefined>,
  item: FieldValue | string | undefined,
): FieldValue | string[] | undefined {
  switch (s.kind) {
    case "path":
      return [inputs.path[s.index]!];
    case "query":
      return inputs.query.get(s.name);
    case "body": {
      let v = inputs.body();
      for (const k of s.path) v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
      if (v === undefined || v === null) return undefined;
      const list = Array.isArray(v) ? v : [v];
      if (list.some((x) => typeof x === "object" && x !== null))
        throw invalidArgument(`body.${s.path.join(".")} must be a scalar or a list of scalars`);
      return list.map(String);
    }
    case "item":
      return (
        walkValue(typeof item === "string" ? undefined : item, s.chain) ??
        (typeof item === "string" ? [item] : undefined)
      );
    case "call":
      return walkValue(results[s.call] as FieldValue | undefined, s.chain);
  }
}

function walkValue(v: FieldValue | undefined, chain: readonly FieldInfo[]): FieldValue | undefined {
  for (const f of chain) v = v === undefined ? undefined : (v as Msg)[f.name];
  return v;
}

/**
 * The request message of one call (one forEach element when `item` is set).
 * @throws GatewayError INVALID_ARGUMENT for text that does not convert to the field's type.
 */
export function buildPartRequest(
  call: PlannedCall,
  inputs: RequestInputs,
  results: ReadonlyArray<Msg | Msg[] | undefined>,
  item: FieldValue | string | undefined,
  read: JsonReadOptions,
): Msg {
  const msg: Msg = {};
  for (const { chain, source } of call.fields) {
    const v = readSource(source, inputs, results, item);
    if (v === undefined) continue;
    const last = chain[chain.length - 1]!;
    const text =
      source.kind === "path" ||
      source.kind === "query" ||
      source.kind === "body" ||
      (source.kind === "item" && typeof item === "string");
    if (!text) {
      setField(call.method.input, msg, chain, v as FieldValue);
      continue;
    }
    const values = v as string[];
    if (!last.repeated && values.length > 1)
      throw invalidArgument(
        `${call.name}: ${describe(source)} has ${values.length} values for a single field`,
      );
    for (const raw of values) {
      const value = textValue(call, last, raw, source, read);
      if (last.repeated) appendField(msg, chain, value);
      else setField(call.method.input, msg, chain, value);
    }
  }
  return msg;
}

/**
 * A text source's value converted to the field's type, as a path or query parameter is.
 * @throws GatewayError INVALID_ARGUMENT (400) naming the call and the source: the client sent it.
 */
function textValue(call: PlannedCall, f: FieldInfo, raw: string, source: Source, read: JsonReadOptions) {
  try {
    return paramValue(f, raw, describe(source), read);
  } catch (err) {
    if (err instanceof JsonMappingError) throw invalidArgument(`${call.name}: ${err.message}`, err);
    throw err;
  }
}

function describe(s: Source): string {
  if (s.kind === "query") return s.name;
  if (s.kind === "body") return `body.${s.path.join(".")}`;
  return s.kind;
}

/** A part's answer as a message: the binary answer of gRPC, or the JSON an AMQP rpc target rendered. */
export function resultMessage(call: PlannedCall, result: UpstreamResult, read: JsonReadOptions): Msg {
  if (result.message) return decodeMessage(call.method.output, result.message);
  if (result.body?.contentType.startsWith("application/json"))
    return messageFromJsonText(call.method.output, result.body.bytes, read);
  throw new GatewayError(Code.INTERNAL, `${call.name}: ${call.method.fullName} gave no message`);
}
