import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { LRUCache } from "lru-cache";
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
 * Keys made by versions before the length-prefixed input differ: after an upgrade their entries are
 * misses (and expire), never wrong answers.
 */
export function cacheKey(call: UpstreamCall, policy: CachePolicy, hasMaps: boolean, caller: string): string {
  return hashKey(call, policy, canonicalRequest(call, hasMaps), caller);
}

/** The canonical binary request: the encoding the backend receives, maps sorted when there are any. */
function canonicalRequest(call: UpstreamCall, hasMaps: boolean): Buffer {
  return hasMaps
    ? encodeMessage(call.route.method.input, sortMaps(call.route.method.input, call.message))
    : call.encoded.subarray(ENCODED_OFFSET);
}

/**
 * The hash's input is unambiguous: the request's bytes are length-prefixed and each Vary value and the
 * caller are JSON strings (quoted, NUL and lone surrogates escaped), so that no bytes of one request can
 * spell another's headers or caller. (Before, a body ending in "\0" and a caller's text could hash like
 * a shorter body with another caller: found by the memo's property test.)
 */
function hashKey(call: UpstreamCall, policy: CachePolicy, encoded: Uint8Array, caller: string): string {
  const h = createHash("sha256");
  h.update(call.route.origin).update("\0").update(outputOptions(call.route)).update("\0");
  h.update(`${encoded.length}:`).update(encoded);
  for (const name of policy.vary) h.update(`\0${name}=${JSON.stringify(headerValue(call.headers, name))}`);
  h.update(`\0${JSON.stringify(caller)}`);
  return h.digest("hex");
}

/** Keys remembered at most; characters of the remembered inputs in all, and of one request's. */
const REMEMBERED_KEYS = 10_000;
const REMEMBERED_CHARS = 4 * 1024 * 1024;
const MAX_MATERIAL = 4096;

/**
 * The entry key of a call, `<method full name>:<cacheKey>`, with its sha256 remembered: a request whose
 * inputs were seen lately (a hit, mostly) gets its key from a map instead of hashing again, which was
 * about 5% of a hit's instructions (bench/README.md). The map is keyed by every input of the hash, each
 * one length-prefixed, so two requests share a remembered key only when their hash inputs are the same;
 * a route's inputs are prefixed by the route's number (`route`, from `routeNumber()`), so no two routes
 * share one either. A remembered key is the same string object each time, so the maps it is looked up
 * in next (the entries, the fills in flight) find its hash already computed. Bounded: 10,000 keys and
 * 4 Mi characters of inputs, least recently used first out.
 */
export class CacheKeys {
  private readonly memo = new LRUCache<string, string>({
    max: REMEMBERED_KEYS,
    maxSize: REMEMBERED_CHARS,
    sizeCalculation: (key, material) => material.length + key.length,
  });
  private routes = 0;

  /** A number for a route's keys, taken once when the route is wrapped. */
  routeNumber(): number {
    return ++this.routes;
  }

  /** `<method full name>:` and the key cacheKey gives. */
  of(route: number, call: UpstreamCall, policy: CachePolicy, hasMaps: boolean, caller: string): string {
    const encoded = canonicalRequest(call, hasMaps);
    if (encoded.length > MAX_MATERIAL) return entryKey(call, hashKey(call, policy, encoded, caller));
    let material = `${route}\0${encoded.length}:${encoded.toString("latin1")}`;
    for (const name of policy.vary) {
      const v = headerValue(call.headers, name);
      material += `\0${v.length}:${v}`;
    }
    material += `\0${caller.length}:${caller}`;
    let key = this.memo.get(material);
    if (key === undefined) {
      key = entryKey(call, hashKey(call, policy, encoded, caller));
      if (material.length <= MAX_MATERIAL) this.memo.set(material, key);
    }
    return key;
  }
}

/** The key an entry is stored under: the route's method is its prefix, for purges by route. */
function entryKey(call: UpstreamCall, hash: string): string {
  const key = `${call.route.method.fullName}:${hash}`;
  key.charCodeAt(0); // flattened once (V8 builds a rope), not by every map that hashes it
  return key;
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
