import { mappingSchema } from "./mapping-schema.js";
import { configSchema } from "./schema.js";

/**
 * The shipped schema files (`schemas/<name>`) and their exact text: written by `npm run schemas`
 * (scripts/write-schemas.mjs) and compared with the committed files by test/config/schema.test.ts.
 */
export function schemaFiles(): Record<string, string> {
  const text = (schema: object) => `${JSON.stringify(schema, null, 2)}\n`;
  return { "config.schema.json": text(configSchema), "mapping.schema.json": text(mappingSchema) };
}
