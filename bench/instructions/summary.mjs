// node summary.mjs <callgrind file> <requests>: instructions per request in all, in V8's garbage
// collector, and without it (a major GC that falls in the measured window adds tens of thousands per
// request to one run: compare runs without it, and read the GC share apart).
import { execFileSync } from "node:child_process";

const [file, requests] = [process.argv[2], Number(process.argv[3])];
const GC =
  /Marking|Sweep|Evacuat|Scaveng|RememberedSet|heap::base|LiveObject|RecordMigrated|popcount|MarkCompact|BodyDescriptor|IterateObjectCache|SlotSet|FreeList|MigrateObject|Heap::|GCTracer|SizeFromMap|Worklist|MemoryChunk|PagedSpace|Compact/;
const text = execFileSync("callgrind_annotate", ["--threshold=100", file], {
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
let all = 0;
let gc = 0;
for (const line of text.split("\n")) {
  const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
  if (!m || m[2].includes("PROGRAM TOTALS")) continue;
  const n = Number(m[1].replaceAll(",", ""));
  all += n;
  if (GC.test(m[2])) gc += n;
}
const per = (n) => Math.round(n / requests);
console.log(`${per(all)} in all, ${per(gc)} in the garbage collector, ${per(all - gc)} without it`);

// A V8 state seen in some runs (bench/README.md, "Instructions per request"): the object literal of
// Node's process.nextTick, optimised with megamorphic feedback, defines its two symbol-keyed fields
// through the runtime, about 20k instructions per request. A run in that state is not comparable.
const inclusive = execFileSync("callgrind_annotate", ["--inclusive=yes", "--threshold=100", file], {
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
const slow = /^\s*([\d,]+) .*Runtime_DefineKeyedOwnPropertyInLiteral/m.exec(inclusive);
if (slow && per(Number(slow[1].replaceAll(",", ""))) > 1000)
  console.log(
    `  (warning: ${per(Number(slow[1].replaceAll(",", "")))} of them in Runtime_DefineKeyedOwnPropertyInLiteral: V8's slow literal state, not comparable)`,
  );
