import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes files (relative path -> text) into a fresh temporary directory and returns it. */
export function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "protogate-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
