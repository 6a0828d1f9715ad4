import protobuf from "protobufjs";
import { LoadError } from "../config/load-error.js";

/**
 * protobufjs drops a field, enum value or type named `__proto__` without a word (on a plain object the
 * name would set the prototype), so whatever a client or backend sent in it would vanish on the way
 * through the gateway. Such a proto is refused at load instead, with the place to rename.
 */
const RESERVED = "__proto__";

const refused = (where: string): LoadError =>
  new LoadError(
    "PROTO_SYNTAX",
    where,
    `the name ${RESERVED} cannot be carried (JavaScript objects reserve it, and its data would be lost): rename it`,
  );

/** A .proto file's text: any identifier `__proto__` (comments and strings do not count). */
export function checkProtoText(text: string, file: string): void {
  if (!text.includes(RESERVED)) return;
  const tokens = protobuf.tokenize(text, true);
  let previous: string | null = null;
  for (let t = tokens.next(); t !== null; previous = t, t = tokens.next()) {
    // after a quote, the tokenizer hands out the string's content as one token
    if (t === RESERVED && previous !== '"' && previous !== "'") throw refused(`${file}:${tokens.line}`);
  }
}

/** A decoded descriptor (reflection, descriptor sets): every `name` in it, at any depth. */
export function checkDescriptorNames(desc: unknown, where: string): void {
  if (Array.isArray(desc)) for (const d of desc) checkDescriptorNames(d, where);
  else if (desc !== null && typeof desc === "object") {
    for (const [k, v] of Object.entries(desc)) {
      if (k === "name" && v === RESERVED) throw refused(where);
      if (typeof v === "object") checkDescriptorNames(v, where);
    }
  }
}
