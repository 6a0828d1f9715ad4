import type { IncomingHttpHeaders } from "node:http";
import { LRUCache } from "lru-cache";
import type { RawRequest } from "../../upstream/call.js";
import { headerValue } from "./key.js";
import type { CachePolicy } from "./policy.js";

/** Per memo: requests remembered at most, characters of their inputs and keys in all, and of one request's. */
const REMEMBERED = 8192;
const REMEMBERED_CHARS = 2 * 1024 * 1024;
const MAX_MATERIAL = 4096;
/** Routes whose keys one plain target keeps (more than one only across reloads, or HEAD beside GET). */
const ROUTES_PER_TARGET = 4;

/** A plain request target's keys, one per route that saw it: route number, key, route number, key... */
type ByRoute = ReadonlyArray<number | string>;

/**
 * The cache's entry keys by the request as it was sent (RawRequest), so that a hit on a request seen
 * lately costs no transcoding, no encoding and no hash: a route's message is a function of the request
 * target, the body and its content type (transcode/request.ts), so two requests to one route with the
 * same of these, the same Vary values and the same caller have the same entry key. What is remembered
 * is the key the canonical request gave (CacheKeys) the first time; a request not remembered (or over
 * 4,096 characters of inputs) is keyed from its canonical request, as always. Routes are told apart by
 * their number (CacheKeys.routeNumber). Two memos, so that no input of one form can spell one of the
 * other: `plain` for a request with no body, no Vary header declared and no caller, keyed by the request
 * target alone (a string Node's parser made, flat, so the lookup hashes no rope), each target holding
 * the keys of the routes that saw it; `qualified` for the rest, every input length-prefixed. Each is
 * bounded for the whole gateway: 8,192 targets or requests and 2 Mi characters, least recently used
 * first out.
 */
export class RawKeys {
  private readonly plain = new LRUCache<string, ByRoute>({
    max: REMEMBERED,
    maxSize: REMEMBERED_CHARS,
    sizeCalculation: (keys, target) => target.length + (keys.length / 2) * (8 + String(keys[1]).length),
  });
  private readonly qualified = new LRUCache<string, string>({
    max: REMEMBERED,
    maxSize: REMEMBERED_CHARS,
    sizeCalculation: (key, material) => material.length + key.length,
  });

  /** The entry key remembered for this request to route `route`, or undefined. */
  get(
    route: number,
    raw: RawRequest,
    policy: CachePolicy,
    headers: IncomingHttpHeaders,
    caller: string,
  ): string | undefined {
    if (!isPlain(raw, policy, caller))
      return this.qualified.get(material(route, raw, policy, headers, caller));
    const keys = this.plain.get(raw.target);
    if (keys === undefined) return undefined;
    for (let i = 0; i < keys.length; i += 2) if (keys[i] === route) return keys[i + 1] as string;
    return undefined;
  }

  /** Remembers `key` (from the canonical request) for this request to route `route`. */
  set(
    route: number,
    raw: RawRequest,
    policy: CachePolicy,
    headers: IncomingHttpHeaders,
    caller: string,
    key: string,
  ): void {
    if (!isPlain(raw, policy, caller)) {
      const m = material(route, raw, policy, headers, caller);
      if (m.length <= MAX_MATERIAL) this.qualified.set(m, key);
      return;
    }
    if (raw.target.length > MAX_MATERIAL) return;
    // Other routes may have seen this target (a reload renumbers the routes): the newest few are kept.
    const before = this.plain.peek(raw.target);
    const keys: Array<number | string> = [route, key];
    if (before)
      for (let i = 0; i < before.length && keys.length < 2 * ROUTES_PER_TARGET; i += 2)
        if (before[i] !== route) keys.push(before[i]!, before[i + 1]!);
    this.plain.set(raw.target, keys);
  }
}

function isPlain(raw: RawRequest, policy: CachePolicy, caller: string): boolean {
  return (raw.body === undefined || raw.body.length === 0) && policy.vary.length === 0 && caller === "-";
}

/** Every input, length-prefixed: the route, the target, the body and its type (when there is a body), Vary values, caller. */
function material(
  route: number,
  raw: RawRequest,
  policy: CachePolicy,
  headers: IncomingHttpHeaders,
  caller: string,
): string {
  let m = `${route}\0${raw.target.length}:${raw.target}`;
  if (raw.body !== undefined && raw.body.length > 0) {
    const type = raw.contentType ?? "";
    m += `\0${raw.body.length}:${raw.body.toString("latin1")}\0${type.length}:${type}`;
  } else m += "\0-";
  for (const name of policy.vary) {
    const v = headerValue(headers, name);
    m += `\0${v.length}:${v}`;
  }
  return `${m}\0${caller.length}:${caller}`;
}
