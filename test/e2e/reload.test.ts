import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigStatus } from "../../src/server/reloader.js";
import { type EchoServer, startAnyEchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/**
 * Hot reload under load: while clients hammer an existing route, files are added, changed, broken,
 * fixed and deleted. No request may fail, and new routes must be live within 2 s.
 */

const EXTRA = `syntax = "proto3";
package extra.v1;
import "google/api/annotations.proto";
message PingRequest { string name = 1; }
service ExtraService {
  rpc Ping(PingRequest) returns (PingRequest) { option (google.api.http) = { get: "/v1/ping/{name}" }; }
}
`;
const LIVE = { timeout: 2000, interval: 50 };

let backend: EchoServer;
let extraBackend: { address: string; close: () => Promise<void> };
let gw: RunningGateway;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "protogate-reload-"));
  cpSync(TEST_PROTOS, join(work, "protos"), { recursive: true });
  mkdirSync(join(work, "mappings"));
  mkdirSync(join(work, "extra-src"));
  writeFileSync(join(work, "extra-src", "extra.proto"), EXTRA);
  backend = await startEchoServer();
  extraBackend = await startAnyEchoServer(join(work, "extra-src"), "extra.proto", "extra.v1.ExtraService");
  gw = await startGateway({
    protos: [join(work, "protos")],
    mappings: join(work, "mappings"),
    backend: backend.address,
    watch: true,
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
  await extraBackend?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Clients that keep calling an existing route until stopped; every answer must be a 200. */
function load(workers: number) {
  let stopped = false;
  let ok = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      try {
        const res = await fetch(`${gw.url}/v1/echo/steady`);
        const body = await res.text();
        if (res.status === 200 && body === '{"s":"steady"}') ok++;
        else failures.push(`${res.status} ${body}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return { ok, failures };
    },
  };
}

const status = async (path: string) => (await fetch(`${gw.url}${path}`)).status;

describe("hot reload", () => {
  it("should pick up added, changed, broken, fixed and deleted files with no failed request", async () => {
    const traffic = load(8);
    const protos = join(work, "protos");
    const kitchen = join(protos, "test", "v1", "kitchen.proto");
    const generation = () => gw.gateway.status().generation;
    const start = generation();

    // a mapping file adds a rule for a method that had none
    writeFileSync(
      join(work, "mappings", "extra.yaml"),
      "http:\n  rules:\n    - selector: test.v1.EchoService.Unbound\n      get: /v1/unbound/{s}\n",
    );
    await expect.poll(() => status("/v1/unbound/hi"), LIVE).toBe(200);

    // a new proto, and a mapping file giving its service a backend
    writeFileSync(
      join(work, "mappings", "backends.yaml"),
      `backends:\n  extra.v1.ExtraService: ${extraBackend.address}\n`,
    );
    mkdirSync(join(protos, "extra", "v1"), { recursive: true });
    writeFileSync(join(protos, "extra", "v1", "extra.proto"), EXTRA);
    await expect.poll(() => status("/v1/ping/bob"), LIVE).toBe(200);
    expect(await (await fetch(`${gw.url}/v1/ping/bob`)).json()).toEqual({ name: "bob" });
    const openapi = (await (await fetch(`${gw.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toContain("/v1/ping/{name}"); // the document follows reloads

    // a changed proto: a route moves
    writeFileSync(
      kitchen,
      readFileSync(kitchen, "utf8").replace('get: "/v1/prio/special"', 'get: "/v1/prio/very/special"'),
    );
    await expect
      .poll(
        async () => (await fetch(`${gw.url}/v1/prio/very/special`)).headers.get("grpc-metadata-x-method"),
        LIVE,
      )
      .toBe("EchoPrioLiteral");

    // a broken proto: the running configuration stays, the error is on the status endpoint
    const before = generation();
    writeFileSync(
      join(protos, "extra", "v1", "extra.proto"),
      EXTRA.replace("string name = 1;", "string name = ;"),
    );
    await expect
      .poll(
        async () => ((await (await fetch(`${gw.url}/_protogate/status`)).json()) as ConfigStatus).lastFailure,
        LIVE,
      )
      .toMatchObject({
        errors: [{ code: "PROTO_SYNTAX", where: expect.stringMatching(/extra\.proto:4$/) }],
      });
    expect(generation()).toBe(before);
    expect(await status("/v1/ping/bob")).toBe(200);

    // fixed: live again, the failure cleared
    writeFileSync(
      join(protos, "extra", "v1", "extra.proto"),
      EXTRA.replace("/v1/ping/{name}", "/v1/pong/{name}"),
    );
    await expect.poll(() => status("/v1/pong/amy"), LIVE).toBe(200);
    expect(gw.gateway.status().lastFailure).toBeUndefined();

    // deleted, with its backend's mapping entry (an entry naming a service that is not loaded is a
    // SELECTOR_UNKNOWN error, #21.1): its routes go
    rmSync(join(protos, "extra"), { recursive: true });
    writeFileSync(join(work, "mappings", "backends.yaml"), "");
    await expect.poll(() => status("/v1/pong/amy"), LIVE).toBe(404);

    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    expect(generation()).toBeGreaterThan(start + 4);
  });

  it("should list the routes in force", async () => {
    const res = await fetch(`${gw.url}/_protogate/routes`);
    const { routes } = (await res.json()) as { routes: Array<{ method: string; path: string; rpc: string }> };
    expect(routes).toContainEqual(
      expect.objectContaining({ method: "GET", path: "/v1/echo/{s}", rpc: "test.v1.EchoService.EchoGet" }),
    );
  });
});
