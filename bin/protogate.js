#!/usr/bin/env -S node --max-semi-space-size=32 --single-threaded-gc
// V8 flags, measured in bench/README.md: a larger young generation means fewer scavenges under load, and
// GC on the main thread only avoids helper threads that compete with it for the core (one process per
// core is how protogate scales: --workers). Started as `node bin/protogate.js`, Node's defaults apply.
import { main } from "../dist/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
