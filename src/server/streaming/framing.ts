/**
 * How a server stream is written on HTTP, chosen by the request's Accept (issue #14 item 2-3). Every
 * framing ends with a record that says how the stream ended, so a client can tell a complete stream
 * from a cut one:
 *
 * | framing | Content-Type | a message | error end | success end |
 * |---|---|---|---|---|
 * | NDJSON (default) | application/x-ndjson | `<json>\n` | `{"error":<Status>}\n` | `{"end":{"trailers":{...}}}\n` |
 * | SSE | text/event-stream | `id: <n>\ndata: <json>\n\n` | `event: error\ndata: <Status>\n\n` | `event: end\ndata: {"trailers":{...}}\n\n` |
 * | JSON array | application/json | `[<json>`, `,<json>` | `,{"error":<Status>}]` | `,{"end":{"trailers":{...}}}]` |
 *
 * SSE also has `retry: <ms>` first (when configured) and `: heartbeat` comments. `<Status>` is
 * google.rpc.Status JSON (code, message, details). Trailers are the backend's trailing metadata by key.
 */
export interface Framing {
  readonly name: "ndjson" | "sse" | "json-array";
  readonly contentType: string;
  /** What opens the stream ("" when nothing). */
  start(retryMs: number): string;
  /** One message; `seq` is its SSE id. */
  message(json: string, seq: number): string;
  /** The last record of a failed stream. */
  error(statusJson: string): string;
  /** The last record of a successful stream. */
  end(trailers: Record<string, string[]>): string;
  /** A keep-alive that carries no message, or "" when the framing has none. */
  heartbeat(): string;
}

const NDJSON_TYPE = "application/x-ndjson";
const SSE_TYPE = "text/event-stream";
const JSON_TYPE = "application/json";

/**
 * The framing for an Accept header: the first of text/event-stream, application/x-ndjson (also
 * application/jsonl) and application/json by quality then order; NDJSON for none, `*\/*` or nothing known.
 */
export function chooseFraming(accept: string | undefined): Framing {
  if (!accept) return ndjson();
  let best: { name: string; q: number } | undefined;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    const name =
      type === SSE_TYPE
        ? "sse"
        : type === NDJSON_TYPE || type === "application/jsonl" || type === "*/*" || type === "application/*"
          ? "ndjson"
          : type === JSON_TYPE
            ? "json-array"
            : undefined;
    if (name && (!best || q > best.q)) best = { name, q };
  }
  if (best?.name === "sse") return sse();
  if (best?.name === "json-array") return jsonArray();
  return ndjson();
}

function endRecord(trailers: Record<string, string[]>): string {
  return `{"end":${JSON.stringify({ trailers })}}`;
}

function ndjson(): Framing {
  return {
    name: "ndjson",
    contentType: NDJSON_TYPE,
    start: () => "",
    message: (json) => `${json}\n`,
    error: (status) => `{"error":${status}}\n`,
    end: (trailers) => `${endRecord(trailers)}\n`,
    heartbeat: () => "",
  };
}

function sse(): Framing {
  return {
    name: "sse",
    contentType: SSE_TYPE,
    start: (retryMs) => (retryMs > 0 ? `retry: ${retryMs}\n\n` : ""),
    // JSON.stringify output has no raw newline, so one `data:` line is always enough.
    message: (json, seq) => `id: ${seq}\ndata: ${json}\n\n`,
    error: (status) => `event: error\ndata: ${status}\n\n`,
    end: (trailers) => `event: end\ndata: ${JSON.stringify({ trailers })}\n\n`,
    heartbeat: () => ": heartbeat\n\n",
  };
}

function jsonArray(): Framing {
  let first = true;
  const sep = (): string => {
    const s = first ? "" : ",";
    first = false;
    return s;
  };
  return {
    name: "json-array",
    contentType: JSON_TYPE,
    start: () => "[",
    message: (json) => sep() + json,
    error: (status) => `${sep()}{"error":${status}}]`,
    end: (trailers) => `${sep()}${endRecord(trailers)}]`,
    heartbeat: () => "",
  };
}
