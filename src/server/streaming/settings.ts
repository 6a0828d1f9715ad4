import type { MethodDescriptor } from "../../registry/registry.js";

/**
 * Per-route settings of streaming routes (issue #14), config key `stream:` under a mapping file's
 * `methods:` or `defaults:`. Every field is optional; STREAM_DEFAULTS fills the rest.
 */
export interface StreamSettings {
  /** SSE only: a comment line (`: heartbeat`) every this many ms of silence; 0 for none. Default 15 s. */
  readonly heartbeatInterval?: number;
  /** The longest a stream may last, ms; then it ends with DEADLINE_EXCEEDED in its framing. 0: no limit. */
  readonly maxStreamDuration?: number;
  /** The longest wait for the next backend message, ms; then DEADLINE_EXCEEDED. 0: no limit. */
  readonly idleTimeout?: number;
  /** Messages as `{"result": message}` (grpc-gateway's shape) instead of bare. Default false. */
  readonly wrapMessages?: boolean;
  /** Client streaming: the largest request message (one NDJSON line or array element), bytes. */
  readonly maxMessageBytes?: number;
  /** Client streaming: the most request messages in one call; 0 for no limit. */
  readonly maxMessages?: number;
  /** SSE `retry:` sent first: how long a client waits before it reconnects, ms. 0: not sent. */
  readonly retry?: number;
}

declare module "../../routing/route.js" {
  interface RouteSettings {
    /** Streaming routes only: framing, limits and timers (src/server/streaming/settings.ts). */
    readonly stream?: StreamSettings | undefined;
  }
}

/** The values used where a route's `stream:` says nothing. */
export const STREAM_DEFAULTS: Required<StreamSettings> = {
  heartbeatInterval: 15_000,
  maxStreamDuration: 0,
  idleTimeout: 0,
  wrapMessages: false,
  maxMessageBytes: 4 * 1024 * 1024,
  maxMessages: 0,
  retry: 0,
};

/** A route's stream settings with the defaults filled in. */
export function streamSettings(s: StreamSettings | undefined): Required<StreamSettings> {
  return s ? { ...STREAM_DEFAULTS, ...withoutUndefined(s) } : STREAM_DEFAULTS;
}

function withoutUndefined(s: StreamSettings): StreamSettings {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined) out[k] = v;
  return out as StreamSettings;
}

/** The call shape of a method, as `protogate routes` and /_protogate/routes show it. */
export function callKind(
  method: MethodDescriptor,
): "unary" | "server-stream" | "client-stream" | "bidi-stream" {
  if (method.clientStreaming) return method.serverStreaming ? "bidi-stream" : "client-stream";
  return method.serverStreaming ? "server-stream" : "unary";
}
