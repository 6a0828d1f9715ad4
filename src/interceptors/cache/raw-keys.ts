import type { IncomingHttpHeaders } from "node:http";
import { LRUCache } from "lru-cache";
import type { RawRequest } from "../../upstream/call.js";
import { headerValue } from "./key.js";
import type { CachePolicy } from "./policy.js";

/** Per memo: requests remembered at most, characters of their inputs in all, and of one request's. */
const REMEMBERED = 1024;
const REMEMBERED_CHARS = 256 * 1024;
const MAX_MATERIAL = 4096;

/**
 * One caching route's entry keys by the request as it was sent (RawRequest), so that a hit on a
 * request seen lately costs no transcoding, no encoding and no hash: the route's message is a function
 * of the request target, the body and its content type (transcode/request.ts), so two requests with
 * the same of these, the same Vary values and the same caller have the same entry key. What is
 * remembered is the key the canonical request gave (CacheKeys), the first time; a request not
 * remembered (or over 4,096 characters of inputs) is keyed from its canonical request, as always.
 * Two memos, so that no input of one form can spell one of the other: `plain` for a request with no
 * body, no Vary header declared and no caller, keyed by the request target alone (a string Node's
 * parser made, flat, so the lookup hashes no rope); `qualified` for the rest, every input
 * length-prefixed. Each is bounded: 1,024 requests and 256 Ki characters, least recently used first out.
 */
export class RawKeys {
  private readonly plain = memo();
  private readonly qualified = memo();

  /** The entry key remembered for this request, or undefined. */
  get(
    raw: RawRequest,
    policy: CachePolicy,
    headers: IncomingHttpHeaders,
    caller: string,
  ): string | undefined {
    return isPlain(raw, policy, caller)
      ? this.plain.get(raw.target)
      : this.qualified.get(material(raw, policy, headers, caller));
  }

  /** Remembers `key` (from the canonical request) for this request. */
  set(raw: RawRequest, policy: CachePolicy, headers: IncomingHttpHeaders, caller: string, key: string): void {
    const plain = isPlain(raw, policy, caller);
    const m = plain ? raw.target : material(raw, policy, headers, caller);
    if (m.length <= MAX_MATERIAL) (plain ? this.plain : this.qualified).set(m, key);
  }
}

function memo(): LRUCache<string, string> {
  return new LRUCache<string, string>({
    max: REMEMBERED,
    maxSize: REMEMBERED_CHARS,
    sizeCalculation: (key, material) => material.length + key.length,
  });
}

function isPlain(raw: RawRequest, policy: CachePolicy, caller: string): boolean {
  return (raw.body === undefined || raw.body.length === 0) && policy.vary.length === 0 && caller === "-";
}

/** Every input, length-prefixed: the target, the body and its type (when there is a body), Vary values, caller. */
function material(
  raw: RawRequest,
  policy: CachePolicy,
  headers: IncomingHttpHeaders,
  caller: string,
): string {
  let m = `${raw.target.length}:${raw.target}`;
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
