import type { MessageInfo } from "./message-info.js";

// Options of the proto3 JSON reader and writer, and the one nesting limit of every codec path: a leaf,
// so that the compiled codecs need not import the entry points that use them.

export interface JsonReadOptions {
  /** Drop fields the message does not declare instead of rejecting them (the mapping's default is reject). */
  readonly ignoreUnknownFields: boolean;
  /** Finds a message type by full name, for google.protobuf.Any. */
  readonly resolve: (fullName: string) => MessageInfo | undefined;
}

/** Deeper nesting is refused, as protobuf's own parsers do (a stack overflow would be a 500). */
export const MAX_DEPTH = 100;

export interface JsonWriteOptions {
  /**
   * Also print fields with implicit presence at their default value (0, "", false, [], {}, the first
   * enum value). Fields with explicit presence (messages, oneof members, `optional`) are printed only
   * when set: protobuf-go's EmitDefaultValues, @bufbuild/protobuf's alwaysEmitImplicit.
   */
  readonly emitUnpopulated: boolean;
  /** Keys are proto field names (`book_id`) instead of JSON names (`bookId`). */
  readonly useProtoNames: boolean;
  /** Enums as numbers instead of names. */
  readonly enumsAsNumbers: boolean;
  readonly resolve: (fullName: string) => MessageInfo | undefined;
}
