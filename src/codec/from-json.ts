import { codecOf } from "./compiled/codecs.js";
import { parseJsonText } from "./json-text.js";
import type { MessageInfo } from "./message-info.js";
import type { Msg } from "./msg.js";
import type { JsonReadOptions } from "./options.js";

/** proto3 JSON -> Msg. https://protobuf.dev/programming-guides/json/ */

export { type JsonReadOptions, MAX_DEPTH } from "./options.js";

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
