import { type JsonSchema, object, oneOrMany } from "../config/schema-kit.js";

/** JSON Schema fragment of the config file's `ipFilter:`. Whether an address parses is the reader's check. */

const entry: JsonSchema = {
  description: "An IPv4 or IPv6 address, or a CIDR range (10.0.0.0/8).",
  type: "string",
  pattern: "^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$",
  errorMessage: "{value} is not an address or CIDR range",
};

export const ipFilterSchema: JsonSchema = object("Client addresses to admit or refuse; deny wins.", {
  allow: oneOrMany("When not empty, only these clients are admitted.", entry),
  deny: oneOrMany("Clients refused (403).", entry),
});
