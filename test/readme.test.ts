import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, run, type Spawned } from "./helpers/process.js";

/**
 * Runs every `$ curl ...` line of the README's console blocks, in order, with the real curl, against
 * a fresh `examples/start.js` (what `npm start` runs), and checks the documented answer:
 * the JSON body, and for `-i` the status line and every header the README shows.
 */

interface Example {
  command: string;
  expected: string[];
}

function readmeExamples(): Example[] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const examples: Example[] = [];
  for (const block of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) {
      if (line.startsWith("$ ")) examples.push({ command: line.slice(2), expected: [] });
      else if (examples.length > 0) examples[examples.length - 1]!.expected.push(line);
    }
  }
  return examples.map((e) => ({ ...e, expected: trimEnd(e.expected) }));
}

const trimEnd = (lines: string[]): string[] => {
  const out = [...lines];
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out;
};

const exec = promisify(execFile);
let app: Spawned;
let base: string;

beforeAll(async () => {
  // Without the async worker: another test's example shares its RabbitMQ queue (test/amqp/example.test.ts).
  app = run("node", ["examples/start.js"], { PORT: "0", ASYNC_EXAMPLE: "off" });
  base = (await app.url).replace(/^http:\/\//, "");
});
afterAll(async () => {
  await app?.stop();
});

describe("README examples", () => {
  const examples = readmeExamples();
  it("should find the examples", () => {
    expect(examples.length).toBeGreaterThan(10);
  });
  // Sequential on purpose: the examples change the bookstore's state in the order the README tells.
  it.each(examples.map((e) => [e.command, e] as const))("$ %s", async (_command, example) => {
    expect(example.command).toMatch(/^curl /);
    const { stdout } = await exec("bash", ["-c", example.command.replaceAll("localhost:8080", base)]);
    const actual = stdout.replace(/\r/g, "").split("\n");
    if (/^curl -si /.test(example.command)) {
      const blank = example.expected.indexOf("");
      const [statusLine, ...headers] = example.expected.slice(0, blank);
      expect(actual[0]).toBe(statusLine);
      const actualHeaders = actual.slice(1, actual.indexOf("")).map((h) => h.toLowerCase());
      for (const h of headers) expect(actualHeaders).toContain(h.toLowerCase());
      expect(JSON.parse(actual.slice(actual.indexOf("") + 1).join("\n"))).toEqual(
        JSON.parse(example.expected.slice(blank + 1).join("\n")),
      );
    } else if (/^curl -sN /.test(example.command)) {
      // a stream (NDJSON, SSE): the exact lines
      expect(trimEnd(actual)).toEqual(example.expected);
    } else {
      expect(JSON.parse(stdout)).toEqual(JSON.parse(example.expected.join("\n")));
    }
  });
});

describe("README configuration examples", () => {
  it("should load the security example (config file and mapping file) as written", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { readConfigFile } = await import("../src/config/config-file.js");
    const { checkConfig } = await import("../src/server/load-table.js");
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const block = (name: string) =>
      new RegExp(`\`\`\`yaml\\n(# ${name.replace(/[./]/g, "\\$&")}\\n[\\s\\S]*?)\`\`\``).exec(readme)![1]!;
    const dir = mkdtempSync(join(tmpdir(), "protogate-readme-"));
    mkdirSync(join(dir, "mappings"));
    writeFileSync(
      join(dir, "protogate.yaml"),
      `${block("protogate.yaml")}protos: [${JSON.stringify(join(REPO, "protos"))}]\nmappings: mappings\n`,
    );
    writeFileSync(join(dir, "mappings", "security.yaml"), block("mappings/security.yaml"));
    const options = readConfigFile(join(dir, "protogate.yaml"));
    expect(options.auth?.providers[0]?.issuer).toBe("https://login.example.com/");
    const { config, errors } = checkConfig(options);
    expect(errors).toEqual([]);
    const del = config!.table.routes.find((r) => r.method.name === "DeleteShelf")!;
    expect(del.settings.auth).toEqual({ require: "authenticated", scopes: { anyOf: ["shelves:admin"] } });
    expect(del.settings.rateLimit?.[0]).toMatchObject({ name: "deletes", rate: 5, periodMs: 3_600_000 });
  });
});
