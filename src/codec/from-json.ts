import { codecOf } from "./compiled/codecs.js";
import { parseJsonText } from "./json-text.js";
import type { MessageInfo } from "./message-info.js";
import type { Msg } from "./msg.js";

/** proto3 JSON -> Msg. https://protobuf.dev/programming-guides/json/ */

export interface JsonReadOptions {
  /** Drop fields the message does not declare instead of rejecting them (the mapping's default is reject). */
  readonly ignoreUnknownFields: boolean;
  /** Finds a message type by full name, for google.protobuf.Any. */
  readonly resolve: (fullName: string) => MessageInfo | undefined;
}

/** Deeper nesting is refused, as protobuf's own parsers do (a stack overflow would be a 500). */
export const MAX_DEPTH = 100;

/** proto3 JSON -> Msg, by the message type's compiled codec. */
export function messageFromJson(
  info: MessageInfo,
  json: unknown,
  path: string,
  opts: JsonReadOptions,
  depth = 0,
): Msg {
  return codecOf(info).fromJson(json, path, opts, depth);
}

/**
 * proto3 JSON text (a request body: bytes or a string) -> Msg. Rejects, besides what messageFromJson
 * rejects, invalid UTF-8, lone surrogate escapes and duplicate keys (see parseJsonText).
 * Throws JsonMappingError.
 */
export function messageFromJsonText(
  info: MessageInfo,
  text: Uint8Array | string,
  opts: JsonReadOptions,
): Msg {
  return messageFromJson(info, parseJsonText(text), "", opts);
}
