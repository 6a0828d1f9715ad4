import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadError } from "../../src/config/load-error.js";
import { loadConfig } from "../../src/server/load-table.js";
import { type EchoServer, startEchoServer, TEST_PROTOS } from "../helpers/echo-server.js";
import { startGateway } from "../helpers/gateway.js";

function mappings(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "protogate-names-"));
  writeFileSync(join(dir, "m.yaml"), text);
  return dir;
}

function loadError(run: () => unknown): LoadError {
  try {
    run();
  } catch (err) {
    if (err instanceof LoadError) return err;
    throw err;
  }
  throw new Error("loaded without error");
}

describe("names that match nothing are load errors (#21.1)", () => {
  it.each([
    [
      "a methods: selector with a typo",
      "methods:\n  test.v1.EchoService.EchoGett:\n    auth: { require: authenticated }\n",
      /SELECTOR_UNKNOWN: .*m\.yaml:2: methods\.test\.v1\.EchoService\.EchoGett: no loaded proto declares the method/,
    ],
    [
      "a backend for a service that is not loaded",
      "backends:\n  test.v1.NoSuchService: 127.0.0.1:9\n",
      /SELECTOR_UNKNOWN: .*m\.yaml:2: backends\.test\.v1\.NoSuchService: no loaded proto declares the service/,
    ],
    [
      "an http.rules selector with a typo",
      "http:\n  rules:\n    - selector: test.v1.EchoService.EchoGett\n      get: /v1/typo\n",
      /SELECTOR_UNKNOWN: .*m\.yaml:3: http\.rules\[0\]: no loaded proto declares the method/,
    ],
    [
      "an AMQP binding for a method that is not loaded",
      "amqp:\n  bindings:\n    - { selector: test.v1.EchoService.Nope, exchange: x, routingKey: k }\n",
      /SELECTOR_UNKNOWN: .*m\.yaml:3: amqp\.bindings\[0\]: no loaded proto declares the method/,
    ],
  ])("%s", (_name, text, message) => {
    const err = loadError(() => loadConfig({ protos: [TEST_PROTOS], mappings: mappings(text) }));
    expect(err.message).toMatch(message);
  });

  it("allows names listed under pending:", () => {
    const dir = mappings(
      "pending: [test.v1.Later, test.v1.EchoService.Soon]\nmethods:\n  test.v1.Later.Get: { timeout: 1s }\n  test.v1.EchoService.Soon: { timeout: 1s }\nbackends:\n  test.v1.Later: 127.0.0.1:9\n",
    );
    expect(() => loadConfig({ protos: [TEST_PROTOS], mappings: dir })).not.toThrow();
  });

  it("keeps a settings entry for a real method", () => {
    const dir = mappings("methods:\n  test.v1.EchoService.EchoGet: { timeout: 1s }\n");
    const config = loadConfig({ protos: [TEST_PROTOS], mappings: dir });
    const route = config.table.routes.find((r) => r.method.fullName === "test.v1.EchoService.EchoGet");
    expect(route?.settings.timeoutMs).toBe(1000);
  });
});

describe("backend addresses are checked at load (#21.2)", () => {
  it.each(["localhost", "http://host:8080", "127.0.0.1:99999", "127.0.0.1:"])("%s", (address) => {
    const err = loadError(() => loadConfig({ protos: [TEST_PROTOS], defaultBackend: address }));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain("default backend");
    const perService = loadError(() =>
      loadConfig({ protos: [TEST_PROTOS], backends: { "test.v1.EchoService": address } }),
    );
    expect(perService.message).toContain("backend of test.v1.EchoService");
  });
});

describe("admin endpoints on the public port (#21.7)", () => {
  let backend: EchoServer;
  beforeAll(async () => {
    backend = await startEchoServer();
  });
  afterAll(async () => {
    await backend.close();
  });

  it("shows status and routes to direct local clients only; live and ready to everyone", async () => {
    const gw = await startGateway({ backend: backend.address });
    try {
      for (const path of ["/_protogate/status", "/_protogate/routes"]) {
        expect((await gw.call("GET", path)).status).toBe(200);
        const proxied = await gw.call("GET", path, { headers: { "x-forwarded-for": "203.0.113.9" } });
        expect(proxied.status).toBe(403);
        expect((proxied.body as { code: number }).code).toBe(7);
        const forwarded = await gw.call("GET", path, { headers: { forwarded: "for=203.0.113.9" } });
        expect(forwarded.status).toBe(403);
      }
      for (const path of ["/_protogate/live", "/_protogate/ready"]) {
        const res = await gw.call("GET", path, { headers: { "x-forwarded-for": "203.0.113.9" } });
        expect(res.status).toBe(200);
      }
    } finally {
      await gw.close();
    }
  });
});
