import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyReply } from "fastify";
import type { CallNotes } from "../../upstream/call.js";

/** Writes the cache's RFC 9211 `Cache-Status` and, for a cached answer, `Age` (RFC 9111 5.1). */
export function markCacheStatus(reply: FastifyReply, notes: CallNotes | undefined): void {
  if (notes?.cacheStatus === undefined) return;
  reply.header("cache-status", notes.cacheStatus);
  if (notes.cacheAge !== undefined) reply.header("age", String(notes.cacheAge));
}

/**
 * The ETag of a 200 answer of a caching route (`tag`: etagOf its bytes, or the one stored with a cached
 * answer, so equal bodies have equal tags on every instance), and the 304 when the request's
 * If-None-Match names it (RFC 9110 13.1.2: weak comparison, `*` matches any). Works on a miss too,
 * once the body is known. Returns true when it sent the 304.
 */
export function conditionalReply(
  reply: FastifyReply,
  headers: IncomingHttpHeaders,
  status: number,
  tag: string,
): boolean {
  if (status !== 200) return false;
  reply.header("etag", tag);
  const inm = headers["if-none-match"];
  if (inm === undefined || !noneMatchHits(inm, tag)) return false;
  reply.code(304).send();
  return true;
}

/** `"<base64url of sha256, 22 chars>"`: 128 bits are plenty to tell two bodies apart. */
export function etagOf(body: string | Uint8Array): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
}

/** Whether an If-None-Match value lists `tag` (weak comparison) or is `*`. */
export function noneMatchHits(inm: string, tag: string): boolean {
  for (const part of inm.split(",")) {
    const t = part.trim();
    if (t === "*" || t === tag || t === `W/${tag}`) return true;
  }
  return false;
}
