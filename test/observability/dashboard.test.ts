import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/** The Grafana dashboard only queries metrics the gateway exposes (a renamed metric breaks this test). */
const dashboard = JSON.parse(
  readFileSync(new URL("../../deploy/grafana/protogate.json", import.meta.url), "utf8"),
) as {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
};

let backend: EchoServer;
let gw: RunningGateway;
beforeAll(async () => {
  backend = await startEchoServer();
  gw = await startGateway({ backend: backend.address });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe("deploy/grafana/protogate.json", () => {
  it("should query only metric names that /metrics exposes", async () => {
    const text = (await gw.call("GET", "/metrics")).text;
    const exposed = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === "histogram" ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!],
      ),
    );
    const queried = new Set<string>();
    for (const p of dashboard.panels)
      for (const t of p.targets ?? [])
        for (const m of t.expr.matchAll(/\b(protogate_\w+|process_\w+|nodejs_\w+)\{/g)) queried.add(m[1]!);
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((m) => !exposed.has(m))).toEqual([]);
  });
});
