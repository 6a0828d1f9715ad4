import type protobuf from "protobufjs";
import type { JsonReadOptions } from "../from-json.js";
import type { MessageInfo } from "../message-info.js";
import type { Msg } from "../msg.js";
import type { JsonWriteOptions } from "../to-json.js";
import { wktFromJson, wktToJson } from "../wkt.js";
import { genCreate, genDecode } from "./gen-decode.js";
import { genEncode } from "./gen-encode.js";
import { type FromJsonFn, genFromJson } from "./gen-from-json.js";
import { genToJson, type ToJsonFlags } from "./gen-to-json.js";
import * as R from "./runtime.js";
import { Deps } from "./source.js";

export type ToJsonFn = (msg: Msg, opts: JsonWriteOptions) => unknown;

/** The compiled functions of one message type. */
export interface Codec {
  /** An empty message of this type (every field undefined, one object shape for the type). */
  readonly create: () => Msg;
  readonly fromJson: FromJsonFn;
  readonly encode: (msg: Msg, w: protobuf.Writer) => void;
  /** `depth`: nesting of the message being read; past MAX_DEPTH (as protobuf C++ and Java) it throws. */
  readonly decode: (r: protobuf.Reader, end: number, msg: Msg, depth: number) => Msg;
  /** toJson specialised for a combination of output options (see flagsKey). */
  toJsonFor(flags: number): ToJsonFn;
}

const cache = new WeakMap<MessageInfo, Codec>();

/**
 * The codec of a message type, compiled on first use from its MessageInfo and cached for the life of
 * the type (a reload brings new types, hence new codecs). Well-known types keep their hand-written JSON
 * forms (wkt.ts) and get compiled binary functions like any message.
 */
export function codecOf(info: MessageInfo): Codec {
  return cache.get(info) ?? build(info);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function build(info: MessageInfo): Codec {
  // Registered before generating, so that a recursive type (Inner.child: Inner) finds itself.
  const variants = new Map<number, ToJsonFn>();
  const codec: Mutable<Codec> = {
    toJsonFor(flags) {
      let fn = variants.get(flags);
      if (!fn) {
        fn = info.wkt ? (msg, opts) => wktToJson(info, msg, opts) : compileToJson(info, flags);
        variants.set(flags, fn);
      }
      return fn;
    },
  } as Mutable<Codec>;
  cache.set(info, codec);

  const deps = new Deps();
  const sources = {
    fromJson: info.wkt ? undefined : genFromJson(info, deps),
    encode: genEncode(info, deps),
    decode: genDecode(info, deps),
  };
  codec.create = link(genCreate(info), [], [], codec);
  const D = deps.messages.map(codecOf);
  const E = deps.enums;
  codec.fromJson = sources.fromJson
    ? link(sources.fromJson, D, E, codec)
    : (json, path, opts: JsonReadOptions, depth) => wktFromJson(info, json, path, opts, depth);
  codec.encode = link(sources.encode, D, E, codec);
  codec.decode = link(sources.decode, D, E, codec);
  return codec;
}

function compileToJson(info: MessageInfo, key: number): ToJsonFn {
  const flags: ToJsonFlags = {
    emitUnpopulated: (key & 1) !== 0,
    useProtoNames: (key & 2) !== 0,
    enumsAsNumbers: (key & 4) !== 0,
  };
  const deps = new Deps();
  const source = genToJson(info, deps, flags);
  return link(source, deps.messages.map(codecOf), deps.enums, codecOf(info), [], key);
}

/** Turns generated source into a function, giving it the runtime and its dependencies. */
// biome-ignore lint/suspicious/noExplicitAny: generated functions are typed by their callers
function link(source: string, D: Codec[], E: unknown[], S: Codec, T: unknown[] = [], FLAGS = 0): any {
  return new Function("R", "D", "E", "S", "T", "FLAGS", source)(R, D, E, S, T, FLAGS);
}
