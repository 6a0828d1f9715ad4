// Writes schemas/config.schema.json and schemas/mapping.schema.json from the built code (dist/), so the
// shipped JSON Schemas are what the gateway validates with. Run by `npm run schemas` (which builds first);
// test/config/schema.test.ts fails when the committed files differ from what the code generates.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { schemaFiles } from "../dist/config/schema-files.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(schemaFiles())) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote schemas/${name}`);
}
