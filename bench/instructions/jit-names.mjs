// node jit-names.mjs <callgrind file> <requests> [--inclusive] [--top N]: the profile's instructions per
// request by function, with V8's JIT code named. callgrind knows no names for code V8 generates (it shows
// `???:0x...`); a gateway started with NODE_FLAGS=--perf-basic-prof (count.sh) writes /tmp/perf-<pid>.map,
// whose `start size name` lines name each code object, and this maps every address into them.
// Self cost by default (where the instructions are spent); --inclusive adds what each function calls.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const [file, requests] = [process.argv[2], Number(process.argv[3])];
const inclusive = process.argv.includes("--inclusive");
const top = Number(process.argv[process.argv.indexOf("--top") + 1]) || 60;
const pid = /^pid: (\d+)/m.exec(readFileSync(file, "latin1").slice(0, 4096))?.[1];
const ranges = readFileSync(`/tmp/perf-${pid}.map`, "latin1")
  .split("\n")
  .filter(Boolean)
  .map((l) => {
    const [start, size, ...name] = l.split(" ");
    return {
      start: Number.parseInt(start, 16),
      end: Number.parseInt(start, 16) + Number.parseInt(size, 16),
      name: name.join(" "),
    };
  })
  .sort((a, b) => a.start - b.start);

/** The code object holding `addr` (a later entry for the same range wins: code is reused after GC). */
function nameOf(addr) {
  let lo = 0;
  let hi = ranges.length - 1;
  let found;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].start <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found !== undefined && addr < ranges[found].end ? ranges[found].name : `?? 0x${addr.toString(16)}`;
}

const args = ["--threshold=100", ...(inclusive ? ["--inclusive=yes"] : []), file];
const text = execFileSync("callgrind_annotate", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
const sums = new Map();
for (const line of text.split("\n")) {
  const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
  if (!m || m[2].includes("PROGRAM TOTALS")) continue;
  const n = Number(m[1].replaceAll(",", ""));
  const addr = /\?\?\?:0x([0-9a-f]+) \[\?\?\?\]/.exec(m[2]);
  const name = addr
    ? nameOf(Number.parseInt(addr[1], 16))
    : m[2].replace(/^\?\?\?:/, "").replace(/ \[.*\]$/, "");
  sums.set(name, (sums.get(name) ?? 0) + n);
}
const rows = [...sums].sort((a, b) => b[1] - a[1]).slice(0, top);
for (const [name, n] of rows)
  console.log(`${String(Math.round(n / requests)).padStart(7)}  ${name.slice(0, 150)}`);
