import {
  decodeMessage,
  defaultScalar,
  type FieldInfo,
  type FieldValue,
  fieldToJson,
  type MessageInfo,
  type Msg,
  messageToJson,
  unrenderableFieldPath,
  unrenderablePath,
} from "../codec/index.js";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { Route } from "../routing/route.js";

export interface HttpResponseBody {
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

const JSON_TYPE = "application/json";

/**
 * The upstream's binary answer as the HTTP body: the whole message, or only `response_body`.
 * An answer that decodes but has no JSON form (a Value holding NaN, a Timestamp past year 9999, an Any
 * of an unknown type) is the backend's fault: GatewayError INTERNAL (500) with a generic message, whose
 * cause is an UnrenderableAnswerError naming the method and the field path.
 */
export function renderResponse(route: Route, bytes: Uint8Array): HttpResponseBody {
  const output = route.method.output;
  const msg = decodeMessage(output, bytes);
  if (output.fullName === "google.api.HttpBody") return httpBody(msg);
  const f = route.responseBody;
  if (!f) return { contentType: JSON_TYPE, body: renderJson(route, msg) };
  const v = msg[f.name];
  const inner = f.element.kind === "message" && !f.repeated ? f.element.message() : undefined;
  if (inner?.fullName === "google.api.HttpBody") return httpBody((v as Msg | undefined) ?? {});
  let json: unknown;
  if (v !== undefined)
    json = render(
      route,
      () => fieldToJson(f, v, route.write),
      () => [f, v],
    );
  else if (f.mapKey || inner) json = {};
  else if (f.repeated) json = [];
  else json = fieldToJson(f, f.element.kind === "scalar" ? defaultScalar(f.element.scalar) : 0, route.write);
  return { contentType: JSON_TYPE, body: JSON.stringify(json) };
}

/**
 * A decoded answer of the route's method as JSON text, for upstreams that decode it themselves (AMQP
 * replies). Throws GatewayError INTERNAL as renderResponse does.
 */
export function renderJson(route: Route, msg: Msg): string {
  const output = route.method.output;
  return JSON.stringify(
    render(
      route,
      () => messageToJson(output, msg, route.write),
      () => [output, msg],
    ),
  );
}

/** The backend's answer has no JSON form; `path` names the field (JSON names, `a.b[2]`). */
export class UnrenderableAnswerError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `the answer of ${method} cannot be rendered as JSON: field "${path}": ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    this.name = "UnrenderableAnswerError";
  }
}

function render(
  route: Route,
  print: () => unknown,
  what: () => [MessageInfo, Msg] | [FieldInfo, FieldValue],
): unknown {
  try {
    return print();
  } catch (err) {
    // The walk that finds the field runs only now: printing never builds paths.
    const [info, value] = what();
    const path =
      "fields" in info
        ? unrenderablePath(info, value as Msg, route.write)
        : unrenderableFieldPath(info, value, route.write);
    throw new GatewayError(Code.INTERNAL, "the backend's answer cannot be rendered as JSON", {
      cause: new UnrenderableAnswerError(route.method.fullName, path, err),
    });
  }
}

function httpBody(msg: Msg): HttpResponseBody {
  return {
    contentType: (msg.content_type as string | undefined) || "application/octet-stream",
    body: (msg.data as Uint8Array | undefined) ?? new Uint8Array(0),
  };
}
