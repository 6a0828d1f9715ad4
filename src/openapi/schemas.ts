import type { Element, FieldInfo, MessageInfo, ScalarType } from "../codec/message-info.js";

/**
 * JSON Schemas (OpenAPI 3.1 dialect) for messages as they look in proto3 JSON: int64 as strings,
 * enums by name, Timestamps as date-time strings, maps as objects, each message once under
 * components.schemas and referenced by $ref. Proto comments become descriptions.
 */
export type Schema = Record<string, unknown>;

export class SchemaSet {
  readonly schemas: Record<string, Schema> = {};

  /** A reference to the message's schema, adding it (and what it uses) to the set. */
  ref(info: MessageInfo): Schema {
    const name = info.fullName;
    if (!(name in this.schemas)) {
      this.schemas[name] = {}; // placeholder first: recursive messages refer to themselves
      this.schemas[name] = this.messageSchema(info);
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  /** The schema of a field's value (element, array or map). */
  field(f: FieldInfo): Schema {
    const item = this.element(f.element);
    const described = (s: Schema): Schema => withDescription(s, f.comment);
    if (f.mapKey) return described({ type: "object", additionalProperties: item });
    if (f.repeated) return described({ type: "array", items: item });
    return described(item);
  }

  element(e: Element): Schema {
    if (e.kind === "scalar") return scalarSchema(e.scalar);
    if (e.kind === "enum") {
      if (e.enum.isNullValue) return { type: "null" };
      return { type: "string", enum: [...e.enum.byName.keys()] };
    }
    return this.ref(e.message());
  }

  private messageSchema(info: MessageInfo): Schema {
    const wkt = wktSchema(info);
    if (wkt) return wkt;
    const properties: Record<string, Schema> = {};
    for (const f of info.fields) properties[f.jsonName] = this.field(f);
    return withDescription(
      { type: "object", properties },
      (info.type as { comment?: string | null }).comment,
    );
  }
}

function scalarSchema(type: ScalarType): Schema {
  switch (type) {
    case "string":
      return { type: "string" };
    case "bool":
      return { type: "boolean" };
    case "bytes":
      return { type: "string", format: "byte", contentEncoding: "base64" };
    case "double":
    case "float":
      return { type: "number", format: type };
    case "int32":
    case "sint32":
    case "sfixed32":
      return { type: "integer", format: "int32" };
    case "uint32":
    case "fixed32":
      return { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 };
    default: // 64-bit integers are JSON strings
      return {
        type: "string",
        format: type.startsWith("u") || type === "fixed64" ? "uint64" : "int64",
        pattern: "^-?[0-9]+$",
      };
  }
}

function wktSchema(info: MessageInfo): Schema | undefined {
  switch (info.wkt) {
    case "Timestamp":
      return { type: "string", format: "date-time", description: "RFC 3339, e.g. 2024-01-01T00:00:00Z" };
    case "Duration":
      return {
        type: "string",
        pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        description: 'seconds with up to 9 decimals and an "s", e.g. 1.5s',
      };
    case "FieldMask":
      return {
        type: "string",
        description: "comma-separated lowerCamel field paths, e.g. title,author.name",
      };
    case "Struct":
      return { type: "object", additionalProperties: true };
    case "Value":
      return { description: "any JSON value" };
    case "ListValue":
      return { type: "array", items: {} };
    case "Empty":
      return { type: "object", additionalProperties: false };
    case "Any":
      return {
        type: "object",
        properties: {
          "@type": { type: "string", description: "type URL, e.g. type.googleapis.com/pkg.Message" },
        },
        required: ["@type"],
        additionalProperties: true,
      };
    case "Wrapper": {
      const value = info.byName.get("value")!;
      return {
        ...scalarSchema((value.element as { scalar: ScalarType }).scalar),
        description: `${info.fullName}: the value itself`,
      };
    }
    default:
      return undefined;
  }
}

function withDescription(schema: Schema, comment: string | null | undefined): Schema {
  return comment ? { ...schema, description: comment.trim() } : schema;
}
