import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startAnyEchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { run } from "../helpers/process.js";

/**
 * Services discovered by gRPC server reflection from a real server (@grpc/reflection), with no .proto
 * file on the gateway's side. That server builds its descriptors with protobufjs, which drops json_name
 * and method options, so its methods are reachable by the POST /pkg.Service/Method binding and by rules
 * in mapping files (servers in Go, C++ or Java send exact descriptors, http rules included).
 */
let backend: EchoServer;
let gw: RunningGateway;

beforeAll(async () => {
  backend = await startEchoServer({ reflection: true });
  const mappings = mkdtempSync(join(tmpdir(), "protogate-reflect-"));
  writeFileSync(
    join(mappings, "rules.yaml"),
    "http:\n  rules:\n    - selector: test.v1.EchoService.EchoGet\n      get: /v2/echo/{s}\n",
  );
  gw = await startGateway({ protos: [], mappings, reflect: [backend.address], reflectionRefreshMs: 200 });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe("gRPC server reflection", () => {
  it("should expose the reflected services, routed to the backend that reflected them", async () => {
    const res = await gw.call("POST", "/test.v1.EchoService/EchoAll", {
      body: JSON.stringify({
        s: "x",
        i64: "-5",
        mi: { "7": { name: "seven" } },
        ts: "2024-01-01T00:00:00Z",
        color: "COLOR_RED",
      }),
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      s: "x",
      i64: "-5",
      mi: { "7": { name: "seven" } },
      ts: "2024-01-01T00:00:00Z",
      color: "COLOR_RED",
    });
    expect(backend.last().request).toMatchObject({ s: "x", i64: "-5", mi: { "7": { name: "seven" } } });
  });

  it("should apply mapping-file rules to reflected methods", async () => {
    const res = await gw.call("GET", "/v2/echo/hello?i32=3");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ s: "hello", i32: 3 });
  });

  it("should show reflected services in protogate routes", async () => {
    const p = run("node", ["bin/protogate.js", "routes", "--reflect", backend.address]);
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(
      new RegExp(
        `POST +/test\\.v1\\.EchoService/EchoAll +test\\.v1\\.EchoService\\.EchoAll +\\* +- +${backend.address}`,
      ),
    );
  });

  it("should not expose the reflection service itself", async () => {
    const { routes } = (await (await fetch(`${gw.url}/_protogate/routes`)).json()) as {
      routes: Array<{ rpc: string }>;
    };
    expect(routes.length).toBeGreaterThan(5);
    expect(routes.filter((r) => r.rpc.startsWith("grpc.reflection"))).toEqual([]);
  });

  it("should start without the backend's services when it cannot be reached, and not fail", async () => {
    const down = await startGateway({ protos: [], reflect: ["127.0.0.1:1"] });
    try {
      expect(down.gateway.config().table.routes).toEqual([]);
      expect((await down.call("POST", "/test.v1.EchoService/EchoAll", { body: "{}" })).status).toBe(404);
    } finally {
      await down.close();
    }
  });
});

describe("reflection v1alpha", () => {
  it("should fall back to v1alpha when a server has no v1", async () => {
    const old = await startEchoServer({ reflection: "v1alpha-only" });
    const g = await startGateway({ protos: [], reflect: [old.address] });
    try {
      const res = await g.call("POST", "/test.v1.EchoService/EchoAll", { body: '{"s":"old"}' });
      expect(res.body).toEqual({ s: "old" });
    } finally {
      await g.close();
      await old.close();
    }
  });
});

describe("reflection refresh", () => {
  it("should follow a backend that comes back with other services", async () => {
    const dir = mkdtempSync(join(tmpdir(), "protogate-reflect-src-"));
    const proto = (pkg: string, svc: string) =>
      `syntax = "proto3";\npackage ${pkg};\nmessage PingRequest { string name = 1; }\nservice ${svc} { rpc Ping(PingRequest) returns (PingRequest); }\n`;
    writeFileSync(join(dir, "one.proto"), proto("one.v1", "OneService"));
    writeFileSync(join(dir, "two.proto"), proto("two.v1", "TwoService"));
    const first = await startAnyEchoServer(dir, "one.proto", "one.v1.OneService", { reflection: true });
    const port = Number(first.address.split(":")[1]);
    const g = await startGateway({ protos: [], reflect: [first.address], reflectionRefreshMs: 100 });
    try {
      expect((await g.call("POST", "/one.v1.OneService/Ping", { body: '{"name":"a"}' })).body).toEqual({
        name: "a",
      });
      await first.close();
      const second = await startAnyEchoServer(dir, "two.proto", "two.v1.TwoService", {
        reflection: true,
        port,
      });
      try {
        await expect
          .poll(
            async () => (await g.call("POST", "/two.v1.TwoService/Ping", { body: '{"name":"b"}' })).status,
            { timeout: 5000 },
          )
          .toBe(200);
        expect((await g.call("POST", "/one.v1.OneService/Ping", { body: "{}" })).status).toBe(404);
      } finally {
        await second.close();
      }
    } finally {
      await g.close();
    }
  });
});
