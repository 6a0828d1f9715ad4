import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { childPids, freePort, run } from "../helpers/process.js";

/** Issue #19 point 4 with `--workers`: SIGHUP reaches every worker, SIGUSR2 replaces them one at a time. */
let backend: EchoServer;
beforeAll(async () => {
  backend = await startEchoServer();
});
afterAll(async () => {
  await backend?.close();
});

/** Clients calling `url` until stopped; every answer that is not a 200 is a failure. */
function load(url: string, path: string) {
  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        const res = await fetch(`${url}${path}`);
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else failures.push(String(res.status));
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  });
  return {
    async stop() {
      stop = true;
      await Promise.all(clients);
      return { ok, failures };
    },
  };
}

describe("protogate serve --workers: signals", () => {
  it("should pass SIGHUP to every worker and roll them on SIGUSR2 with no failed request", {
    timeout: 300_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "protogate-workers-"));
    const file = join(dir, "p.yaml");
    const port = await freePort();
    const lines = [
      `server: { port: ${port}, shutdown: { delay: 300ms, drainTimeout: 10s } }`,
      `protos: [${JSON.stringify(TEST_PROTOS)}]`,
      `backends: { default: ${JSON.stringify(backend.address)} }`,
      "logLevel: warn",
    ];
    writeFileSync(file, lines.join("\n"));
    const p = run("node", ["bin/protogate.js", "serve", "--config", file, "--no-watch", "--workers", "2"]);
    onTestFinished(() => void p.stop());
    const url = await p.url;
    await expect.poll(() => childPids(p.child.pid!).length, { timeout: 60_000 }).toBe(2);

    // SIGUSR2 under load: every worker replaced, never zero serving
    const before = childPids(p.child.pid!);
    const traffic = load(url, "/v1/sleep/50");
    await expect.poll(() => backend.calls.length).toBeGreaterThan(10);
    p.child.kill("SIGUSR2");
    await expect.poll(() => p.output(), { timeout: 150_000 }).toMatch(/rolling restart done/);
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    const after = childPids(p.child.pid!);
    expect(after).toHaveLength(2);
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);

    // SIGHUP: the config file now requires a token, in every worker (the primary round-robins them)
    writeFileSync(
      file,
      [
        ...lines,
        "auth:",
        "  default: authenticated",
        '  providers: [{ issuer: "https://x.test", audiences: [api], algorithms: [RS256], jwksUri: "http://127.0.0.1:9/jwks" }]',
      ].join("\n"),
    );
    p.child.kill("SIGHUP");
    const statuses = () =>
      Promise.all(Array.from({ length: 8 }, () => fetch(`${url}/v1/echo/x`).then((r) => r.status)));
    await expect.poll(statuses, { timeout: 60_000 }).toEqual(Array(8).fill(401));
    expect(childPids(p.child.pid!)).toEqual(after); // reloaded, not restarted
    expect(await p.stop()).toBe(0);
  });
});
