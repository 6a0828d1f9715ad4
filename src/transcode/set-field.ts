import type { FieldInfo, FieldValue, MessageInfo, Msg } from "../codec/index.js";

/**
 * Sets the field at the end of `chain` (a path of fields from `root`), creating the messages on the way.
 * Setting a oneof member clears its siblings: a path variable wins over what the body said.
 */
export function setField(root: MessageInfo, msg: Msg, chain: readonly FieldInfo[], value: FieldValue): void {
  let info = root;
  let target = msg;
  chain.forEach((f, i) => {
    if (f.oneof) for (const other of info.oneofs.get(f.oneof)!) if (other !== f) delete target[other.name];
    if (i === chain.length - 1) {
      target[f.name] = value;
      return;
    }
    info = (f.element as { message: () => MessageInfo }).message();
    target = (target[f.name] ??= {}) as Msg;
  });
}

/** Appends to a repeated field at the end of `chain`. */
export function appendField(msg: Msg, chain: readonly FieldInfo[], value: FieldValue): void {
  const last = chain[chain.length - 1]!;
  let target = msg;
  for (const f of chain.slice(0, -1)) target = (target[f.name] ??= {}) as Msg;
  ((target[last.name] ??= []) as FieldValue[]).push(value);
}
