import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { type ScriptedServer, startScriptedServer } from "../helpers/scripted-server.js";

const PROTOS = fileURLToPath(new URL("./protos", import.meta.url));

describe("cache: which methods are cached", () => {
  let backend: ScriptedServer;
  let gw: RunningGateway;
  let off: RunningGateway;
  beforeAll(async () => {
    backend = await startScriptedServer();
    const cache = { ttlMs: 60_000, noSideEffects: true };
    gw = await startGateway({ backend: backend.address, protos: [PROTOS], routeDefaults: { cache } });
    off = await startGateway({
      backend: backend.address,
      protos: [PROTOS],
      routeDefaults: { cache: { ttlMs: 60_000 } },
    });
  });
  afterAll(async () => {
    await gw.close();
    await off.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.calls.length = 0;
  });

  it("caches a POST of a method whose proto says NO_SIDE_EFFECTS when noSideEffects is set", async () => {
    const a = await gw.call("POST", "/v1/search", { body: '{"s":"x"}' });
    const b = await gw.call("POST", "/v1/search", { body: '{ "s" : "x" }' });
    expect(a.body).toEqual({ s: "x" });
    expect(b.headers.get("cache-status")).toMatch(/; hit;/);
    expect(backend.calls).toHaveLength(1);
  });

  it("never caches a POST of another method, nor one of NO_SIDE_EFFECTS without the setting", async () => {
    await gw.call("POST", "/v1/plain", { body: '{"s":"x"}' });
    const plain = await gw.call("POST", "/v1/plain", { body: '{"s":"x"}' });
    await off.call("POST", "/v1/search", { body: '{"s":"y"}' });
    const search = await off.call("POST", "/v1/search", { body: '{"s":"y"}' });
    expect(backend.calls).toHaveLength(4);
    expect(plain.headers.get("cache-status")).toBeNull();
    expect(search.headers.get("cache-status")).toBeNull();
  });
});
