import protobuf from "protobufjs";
import { enumToJson, scalarToJson } from "../json-scalars.js";
import type { MessageInfo } from "../message-info.js";
import type { Msg } from "../msg.js";
import { WireFormatError } from "../msg.js";
import type { JsonReadOptions, JsonWriteOptions } from "../options.js";
import { setWktRecursion, wktFromJson, wktToJson } from "../wkt.js";
import { genCreate, genDecode } from "./gen-decode.js";
import { genEncode } from "./gen-encode.js";
import { type FromJsonFn, genFromJson } from "./gen-from-json.js";
import { flagsKey, genToJson, type ToJsonFlags } from "./gen-to-json.js";
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

// The well-known types recurse into messages through these (wkt.ts imports no codec: no cycle).
setWktRecursion({
  fromJson: (info, json, path, opts, depth) => codecOf(info).fromJson(json, path, opts, depth),
  toJson: (info, msg, opts) => codecOf(info).toJsonFor(flagsKey(opts))(msg, opts),
  elementToJson(e, v, opts) {
    if (e.kind === "scalar") return scalarToJson(e.scalar, v);
    if (e.kind === "enum") return enumToJson(e.enum, v as number, opts.enumsAsNumbers);
    const info = e.message();
    return codecOf(info).toJsonFor(flagsKey(opts))(v as Msg, opts);
  },
  encode(info, msg) {
    const w = protobuf.Writer.create();
    codecOf(info).encode(msg, w);
    return w.finish();
  },
  decode(info, bytes) {
    const r = new protobuf.Reader(bytes);
    try {
      const codec = codecOf(info);
      return codec.decode(r, r.len, codec.create(), 0);
    } catch (err) {
      throw new WireFormatError(`cannot decode ${info.fullName}: ${(err as Error).message}`);
    }
  },
});
