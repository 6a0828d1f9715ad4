import { amqpMappingSchema } from "../upstream/amqp/schema.js";
import { serviceBackendsSchema } from "../upstream/grpc/schema.js";
import { methodSettingsSchema } from "./method-schema.js";
import { type JsonSchema, mapOf, object, oneOrMany, text } from "./schema-kit.js";

/**
 * The JSON Schema (draft-07) of a mapping file (`mappings/*.yaml`), shipped as
 * schemas/mapping.schema.json. That a rule names a loaded method, that its template parses and that it has
 * exactly one pattern are checked at load, where the protos are known.
 */

const template = (verb: string) => text(`${verb} with this path template (google.api.http).`);

const patterns: Record<string, JsonSchema> = {
  get: template("GET"),
  put: template("PUT"),
  post: template("POST"),
  delete: template("DELETE"),
  patch: template("PATCH"),
  custom: object(
    "Another HTTP method.",
    { kind: text("The HTTP method."), path: text("The path template.") },
    { required: ["kind", "path"] },
  ),
  body: text('The request field the body fills, or "*" for the whole request.'),
  response_body: text("The response field that is the HTTP response (instead of the whole message)."),
};

const rule = object(
  "A google.api.HttpRule; it replaces the method's own annotation.",
  {
    selector: text("The method: pkg.Service.Method."),
    ...patterns,
    additional_bindings: oneOrMany(
      "More bindings of the same method (they do not inherit body).",
      object("A binding (exactly one pattern).", { selector: text("Ignored."), ...patterns }),
    ),
  },
  { required: ["selector"], errorMessage: { required: "a rule needs a selector (pkg.Service.Method)" } },
);

export const mappingSchema: JsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "protogate mapping file",
  ...object("A mapping file: HTTP rules, backends per service, per-method settings, AMQP bindings.", {
    http: object("HTTP rules, in the shape of Google's service config.", {
      rules: { description: "One rule per method.", type: "array", items: rule },
    }),
    backends: serviceBackendsSchema,
    methods: mapOf("Route settings by method (pkg.Service.Method).", methodSettingsSchema),
    amqp: amqpMappingSchema,
  }),
};
