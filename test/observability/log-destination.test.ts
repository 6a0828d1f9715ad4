import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/**
 * The logger's stdout destination batches the lines of an event-loop turn: none may be lost when the
 * process ends right after writing them (normal end, process.exit, an uncaught exception), and their
 * order stays. Runs the built module (dist/, as `npm test` builds first) in a child whose stdout is a pipe.
 */
const MODULE = new URL("../../dist/observability/log-destination.js", import.meta.url).href;

function child(body: string): { lines: string[]; status: number | null } {
  const script = `import { logDestination } from ${JSON.stringify(MODULE)};\nconst out = logDestination();\n${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { lines: r.stdout.split("\n").filter(Boolean), status: r.status };
}

const WRITE_5000 = 'for (let i = 0; i < 5000; i++) out.write(`{"n":${i}}\\n`);';
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `{"n":${i}}`);

describe("logDestination", () => {
  it.each([
    ["the script ends", ""],
    ["process.exit() right after the writes", "process.exit(3);"],
    ["an uncaught exception right after the writes", "throw new Error('boom');"],
  ])("writes every line, in order, when %s", (_when, end) => {
    const { lines } = child(`${WRITE_5000}\n${end}`);
    expect(lines).toEqual(numbered(5000));
  });

  it("writes every byte of lines of any size and script, in order, across batches", () => {
    // short and long lines, ASCII and multi-byte (2-, 3- and 4-byte UTF-8), some longer than a batch's
    // spare room, 300 KB in all: several flushes, lines written on their own among batched ones
    const { lines } = child(
      "const parts = ['a', 'é', '日本', '😀', 'x'.repeat(20000), '日'.repeat(9000)];\n" +
        "for (let i = 0; i < 600; i++) out.write(i + ' ' + parts[i % 6].repeat(i % 6 < 4 ? 1 + (i % 50) : 1) + '\\n');",
    );
    const parts = ["a", "é", "日本", "😀", "x".repeat(20000), "日".repeat(9000)];
    expect(lines).toEqual(
      Array.from({ length: 600 }, (_, i) => `${i} ${parts[i % 6]!.repeat(i % 6 < 4 ? 1 + (i % 50) : 1)}`),
    );
  });

  it("writes lines of later turns too", () => {
    const { lines } = child(
      "out.write('a\\n'); setImmediate(() => { out.write('b\\n'); setTimeout(() => out.write('c\\n'), 20); });",
    );
    expect(lines).toEqual(["a", "b", "c"]);
  });
});
