import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A mappings directory holding one file `compose.yaml` with `yaml`; returns the directory. */
export function mappingsDir(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "protogate-compose-"));
  writeFileSync(join(dir, "compose.yaml"), yaml);
  return dir;
}

export const SVC = "test.v1.EchoService";
