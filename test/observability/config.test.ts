import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readConfigFile } from "../../src/config/config-file.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/** The config keys `metrics`, `tracing`, `accessLog`, and where /metrics is served. */
function configFile(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "protogate-obs-config-"));
  const file = join(dir, "protogate.yaml");
  writeFileSync(file, lines.join("\n"));
  return file;
}

describe("config file keys", () => {
  it("should read metrics, tracing and accessLog", () => {
    const o = readConfigFile(
      configFile([
        "metrics: { enabled: false, path: /prom }",
        "tracing: { sampleRatio: 0.25, endpoint: http://collector:4318/v1/traces }",
        "accessLog: { sampleRatio: 0.1 }",
      ]),
    );
    expect(o.metrics).toEqual({ enabled: false, path: "/prom" });
    expect(o.tracing).toEqual({
      enabled: true,
      sampleRatio: 0.25,
      endpoint: "http://collector:4318/v1/traces",
    });
    expect(o.accessLog).toEqual({ enabled: true, sampleRatio: 0.1 });
    expect(readConfigFile(configFile(["logLevel: info"]))).not.toHaveProperty("tracing");
  });

  it.each([
    ["metrics: { path: metrics }", /metrics\.path: expected a path starting with "\/"/],
    ["metrics: { port: 9 }", /metrics\.port: unknown key/],
    ["tracing: { sampleRatio: 2 }", /tracing\.sampleRatio: expected a number from 0 to 1/],
    ["tracing: { endpoint: collector:4318 }", /tracing\.endpoint: expected an http/],
    ["accessLog: { enabled: yes }", /accessLog\.enabled: expected true or false/],
  ])("%s is refused", (line, message) => {
    expect(() => readConfigFile(configFile([line]))).toThrow(message);
  });
});

describe("where /metrics is served", () => {
  let gw: RunningGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it("should serve it on the admin listener when there is one, not on the public port", async () => {
    gw = await startGateway({ admin: { host: "127.0.0.1", port: 0 } });
    expect((await gw.call("GET", "/metrics")).status).toBe(404);
    const admin = gw.gateway.admin!;
    const address = admin.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${address.port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^# HELP protogate_http_server_request_duration_seconds /m);
  });

  it("should serve it on its configured path, and not at all when disabled", async () => {
    gw = await startGateway({ metrics: { path: "/prom" } });
    expect((await gw.call("GET", "/prom")).text).toMatch(/protogate_config_generation 1/);
    await gw.close();
    gw = await startGateway({ metrics: { enabled: false } });
    expect((await gw.call("GET", "/metrics")).status).toBe(404);
  });
});
