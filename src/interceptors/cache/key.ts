import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { encodeMessage, type Msg } from "../../codec/index.js";
import type { MessageInfo } from "../../codec/message-info.js";
import type { FieldValue, MsgMap } from "../../codec/msg.js";
import type { Route } from "../../routing/route.js";
import { ENCODED_OFFSET, type UpstreamCall } from "../../upstream/call.js";
import type { CachePolicy } from "./policy.js";

/**
 * The cache key of a call: sha256 over the route, the canonical binary request (what the backend
 * would receive, map entries sorted so that `?m[b]=1&m[a]=2` and `?m[a]=2&m[b]=1` share an entry; proto
 * or JSON names and query order are gone once transcoded), the declared Vary headers, the output JSON
 * options (they change the rendered body) and, for scope `principal`, the caller. Hex, 64 chars.
 */
export function cacheKey(call: UpstreamCall, policy: CachePolicy, hasMaps: boolean, caller: string): string {
  const h = createHash("sha256");
  h.update(call.route.origin).update("\0").update(outputOptions(call.route)).update("\0");
  const encoded = hasMaps
    ? encodeMessage(call.route.method.input, sortMaps(call.route.method.input, call.message))
    : call.encoded.subarray(ENCODED_OFFSET);
  h.update(encoded);
  for (const name of policy.vary) h.update(`\0${name}=${headerValue(call.headers, name)}`);
  h.update(`\0${caller}`);
  return h.digest("hex");
}

/** Whether a message type has a map field anywhere inside (computed once per route). */
export function hasMapFields(info: MessageInfo, seen = new Set<string>()): boolean {
  if (seen.has(info.fullName)) return false;
  seen.add(info.fullName);
  return info.fields.some(
    (f) =>
      f.mapKey !== undefined || (f.element.kind === "message" && hasMapFields(f.element.message(), seen)),
  );
}

/** A copy of `msg` with every map's entries in key order (protobufjs writes them in insertion order). */
export function sortMaps(info: MessageInfo, msg: Msg): Msg {
  const out: Msg = {};
  for (const name in msg) {
    const field = info.byName.get(name);
    const v = msg[name]!;
    if (field?.element.kind !== "message") {
      out[name] = field?.mapKey !== undefined ? sortedMap(v as MsgMap, undefined) : v;
      continue;
    }
    const sub = field.element.message();
    if (field.mapKey !== undefined) out[name] = sortedMap(v as MsgMap, sub);
    else if (field.repeated) out[name] = (v as Msg[]).map((m) => sortMaps(sub, m));
    else out[name] = sortMaps(sub, v as Msg);
  }
  return out;
}

function sortedMap(m: MsgMap, values: MessageInfo | undefined): MsgMap {
  const entries = [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(entries.map(([k, v]) => [k, values ? (sortMaps(values, v as Msg) as FieldValue) : v]));
}

function outputOptions(route: Route): string {
  const w = route.write;
  return `${+w.emitUnpopulated}${+w.useProtoNames}${+w.enumsAsNumbers}`;
}

/** A request header's value as one string ("" when absent). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return v === undefined ? "" : Array.isArray(v) ? v.join(", ") : v;
}
