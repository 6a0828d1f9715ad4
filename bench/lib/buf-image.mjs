// Compiles a proto directory (plus protogate's built-in google protos) to a FileDescriptorSet with the
// `buf` binary from node_modules, for @bufbuild/protobuf (the differential tests' oracle, a benchmark peer).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** @param {string} protoDir @returns {Uint8Array} */
export function bufImage(protoDir) {
  const work = mkdtempSync(join(tmpdir(), "protogate-buf-"));
  symlinkSync(protoDir, join(work, "user"));
  // The built-in google protos (protos-builtin/), unless the directory ships its own.
  const builtin = !existsSync(join(protoDir, "google")) && !existsSync(join(protoDir, "protogate"));
  if (builtin) {
    mkdirSync(join(work, "builtin"));
    symlinkSync(join(REPO, "protos-builtin", "google"), join(work, "builtin", "google"));
    symlinkSync(join(REPO, "protos-builtin", "protogate"), join(work, "builtin", "protogate"));
  }
  writeFileSync(
    join(work, "buf.yaml"),
    `version: v2\nmodules:\n  - path: user\n${builtin ? "  - path: builtin\n" : ""}`,
  );
  const out = join(work, "image.binpb");
  execFileSync(join(REPO, "node_modules", ".bin", "buf"), ["build", "-o", out], { cwd: work, stdio: "pipe" });
  return readFileSync(out);
}
