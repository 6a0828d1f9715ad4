import { JsonTextError, type Msg, messageFromJson, parseJsonText } from "../codec/index.js";
import { invalidArgument } from "../errors/gateway-error.js";
import type { Route } from "../routing/route.js";
import { bindVariables } from "../routing/router.js";
import { paramValue } from "./param-value.js";
import { applyQuery } from "./query.js";
import { setField } from "./set-field.js";

const HTTP_BODY = "google.api.HttpBody";

export interface HttpRequestParts {
  /** Raw path segments as matched (verb removed). */
  readonly segments: readonly string[];
  /** The query string without "?", "" when absent. */
  readonly query: string;
  /** The raw request body; undefined or empty when there is none. */
  readonly body: Buffer | undefined;
  readonly contentType: string | undefined;
}

/**
 * Builds the request message from body, query and path, in that order, so that path variables win.
 * Throws GatewayError / JsonMappingError / PercentDecodeError; the caller maps them to 400.
 */
export function buildRequest(route: Route, req: HttpRequestParts): Msg {
  const input = route.method.input;
  let msg: Msg = {};
  const hasBody = req.body !== undefined && req.body.length > 0;
  if (route.body.kind === "all" && hasBody) {
    msg =
      input.fullName === HTTP_BODY
        ? httpBody(req)
        : messageFromJson(input, parseJson(req.body!), "", route.read);
  } else if (route.body.kind === "field" && hasBody) {
    const f = route.body.field;
    const inner = f.element.kind === "message" ? f.element.message() : undefined;
    // The body is that one field of the request: the message's own codec reads it, under its JSON name
    // (so error paths read "book.title"), with every rule a whole body gets.
    if (inner?.fullName === HTTP_BODY && !f.repeated) msg[f.name] = httpBody(req);
    else msg = messageFromJson(input, { [f.jsonName]: parseJson(req.body!) }, "", route.read);
  }
  if (req.query) applyQuery(route, msg, req.query);
  const vars = bindVariables(route.template, req.segments);
  vars.forEach((v, i) => {
    const chain = route.pathFields[i]!;
    const leaf = chain[chain.length - 1]!;
    setField(input, msg, chain, paramValue(leaf, v.value, v.fieldPath.join("."), route.read));
  });
  return msg;
}

/** The body as JSON: well-formed UTF-8, no lone surrogate escape, no key twice (parseJsonText). */
function parseJson(body: Buffer): unknown {
  try {
    return parseJsonText(body);
  } catch (err) {
    if (err instanceof JsonTextError) throw invalidArgument(`request body ${err.problem}`, err);
    throw err;
  }
}

/** google.api.HttpBody takes the raw bytes and their content type. */
function httpBody(req: HttpRequestParts): Msg {
  return { content_type: req.contentType ?? "application/octet-stream", data: req.body! };
}
