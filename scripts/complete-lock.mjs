#!/usr/bin/env node
// npm leaves an optional platform package out of package-lock.json when the registry cannot serve it
// (the registry on our machines has only the linux-x64 builds of biome and buf), and `npm ci` then
// refuses the lock as out of sync. This adds those entries with their os/cpu/libc, so npm ci skips them
// on other platforms without fetching anything. Run it after every `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const packages = lock.packages;
const OS = { android: "android", darwin: "darwin", linux: "linux", win32: "win32", freebsd: "freebsd" };
const CPU = {
  arm64: "arm64",
  x64: "x64",
  armv7: "arm",
  arm: "arm",
  ia32: "ia32",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
};

let added = 0;
for (const [path, meta] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${path}/${key}`]) continue;
    const parts = name.split("/").pop().split("-");
    const os = parts.find((p) => OS[p]);
    const cpu = parts.find((p) => CPU[p]);
    if (!os || !cpu) continue; // not a platform build: leave it to npm
    packages[key] = {
      version: range.replace(/^[\^~=]/, ""),
      dev: meta.dev || undefined,
      optional: true,
      os: [OS[os]],
      cpu: [CPU[cpu]],
      ...(parts.includes("musl") ? { libc: ["musl"] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lock: added ${added} platform entries`);
