import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { run } from "../helpers/process.js";

/** #19: a port already taken ends `serve` at once, with its address in the message, whatever the mode. */

let taken: Server;
let port: string;
beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  port = String((taken.address() as { port: number }).port);
});
afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

const setups: Array<[string, () => string[]]> = [
  ["watching files (the default)", () => ["--port", port]],
  ["with --no-watch", () => ["--port", port, "--no-watch"]],
  ["with --workers 2", () => ["--port", port, "--workers", "2"]],
  ["on the admin port", () => ["--port", "0", "--admin-port", port]],
];

describe("protogate serve on a port in use", () => {
  it.each(setups)("should exit 1 with a clear message %s", async (_name, args) => {
    const p = run("node", [
      "bin/protogate.js",
      "serve",
      "--protos",
      TEST_PROTOS,
      "--log-level",
      "silent",
      ...args(),
    ]);
    onTestFinished(() => void p.stop()); // without the fix it serves nothing but never exits
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(`protogate: cannot listen on 127.0.0.1:${port}: the port is already in use`);
    expect(p.output()).not.toMatch(/starting another/);
  });
});
