/** Accepts standard and URL-safe base64, padded or not (proto3 JSON mapping); returns undefined if invalid. */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(s)) return undefined;
  const body = s.replace(/=+$/, "");
  if (body.length % 4 === 1) return undefined;
  if (/[-_]/.test(body) && /[+/]/.test(body)) return undefined; // alphabets mixed
  return Buffer.from(body, /[-_]/.test(body) ? "base64url" : "base64");
}

/** Standard base64 with padding, as the mapping emits it. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
