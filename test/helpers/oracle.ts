import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileRegistry, type DescMessage, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { REPO } from "./process.js";

/**
 * The test oracle: @bufbuild/protobuf (certified against the protobuf conformance suite), loaded from a
 * FileDescriptorSet that `buf build` compiles from the same protos protogate loads.
 */
export interface Oracle {
  registry: Registry;
  message(name: string): DescMessage;
}

export function loadOracle(protoDir: string): Oracle {
  const work = mkdtempSync(join(tmpdir(), "protogate-oracle-"));
  symlinkSync(protoDir, join(work, "user"));
  mkdirSync(join(work, "builtin"));
  symlinkSync(join(REPO, "protos", "google"), join(work, "builtin", "google"));
  writeFileSync(join(work, "buf.yaml"), "version: v2\nmodules:\n  - path: user\n  - path: builtin\n");
  const out = join(work, "image.binpb");
  execFileSync(join(REPO, "node_modules", ".bin", "buf"), ["build", "-o", out], { cwd: work, stdio: "pipe" });
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  return {
    registry,
    message(name) {
      const desc = registry.getMessage(name);
      if (!desc) throw new Error(`oracle has no message ${name}`);
      return desc;
    },
  };
}
