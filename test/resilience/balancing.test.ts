import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayOptions } from "../../src/config/options.js";
import {
  balancingFor,
  DEFAULT_BALANCING,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_OUTLIER_DETECTION,
  readBalancing,
} from "../../src/upstream/grpc/balancing.js";
import type { EndpointStatus } from "../../src/upstream/grpc/channel.js";
import { decodeResponse, encodeRequest } from "../../src/upstream/grpc/health-check.js";
import { BUILTIN_PROTOS, TEST_PROTOS } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { rng } from "../helpers/random.js";

// Chaos tests of a backend with several endpoints (issue #17, points 5, 6 and 8): real grpc-js
// servers killed and restarted on their port, health answers switched, one slow endpoint.

const echo = (
  grpc.loadPackageDefinition(
    protoLoader.loadSync("test/v1/kitchen.proto", {
      includeDirs: [TEST_PROTOS, BUILTIN_PROTOS],
      keepCase: true,
      longs: String,
      enums: String,
      bytes: String,
      oneofs: true,
    }),
  ) as unknown as { test: { v1: { EchoService: grpc.ServiceClientConstructor } } }
).test.v1.EchoService.service;

/** grpc.health.v1.Health/Check with the two tiny messages coded by hand (status: 1 SERVING, 2 NOT_SERVING). */
const health: grpc.ServiceDefinition = {
  Check: {
    path: "/grpc.health.v1.Health/Check",
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    // an object: grpc-js takes a falsy request ("") for a missing one
    requestDeserialize: (b: Buffer) => ({ service: b.length > 2 ? b.subarray(2, 2 + b[1]!).toString() : "" }),
    responseSerialize: (status: number) => Buffer.from([0x08, status]),
    responseDeserialize: (b: Buffer) => b[1],
    originalName: "check",
  },
};

interface Backend {
  port: number;
  calls: number;
  /** Serving status by service name ("" is the server); without an entry: SERVICE_UNKNOWN. */
  serving: Map<string, number>;
  delayMs: number;
  stop(): void;
  start(): Promise<void>;
}

/** An EchoService server on 127.0.0.1 (with the Health service unless `withHealth` is false). */
async function backend(withHealth = true): Promise<Backend> {
  let server: grpc.Server | undefined;
  const b: Backend = {
    port: 0,
    calls: 0,
    serving: new Map([["", 1]]),
    delayMs: 0,
    stop() {
      server?.forceShutdown();
      server = undefined;
    },
    async start() {
      const s = new grpc.Server();
      const handlers: grpc.UntypedServiceImplementation = {};
      for (const method of Object.keys(echo))
        handlers[method] = (
          call: grpc.ServerUnaryCall<unknown, unknown>,
          cb: grpc.sendUnaryData<unknown>,
        ) => {
          b.calls++;
          setTimeout(() => cb(null, call.request), b.delayMs);
        };
      s.addService(echo, handlers);
      if (withHealth)
        s.addService(health, {
          Check: (call: grpc.ServerUnaryCall<{ service: string }, number>, cb: grpc.sendUnaryData<number>) =>
            cb(null, b.serving.get(call.request.service) ?? 3),
        });
      b.port = await new Promise<number>((resolve, reject) =>
        s.bindAsync(`127.0.0.1:${b.port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
          err ? reject(err) : resolve(p),
        ),
      );
      server = s;
    },
  };
  await b.start();
  return b;
}

const addressOf = (bs: Backend[]): string => `ipv4:${bs.map((b) => `127.0.0.1:${b.port}`).join(",")}`;

let backends: Backend[] = [];
let gw: RunningGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  for (const b of backends) b.stop();
  backends = [];
});

async function setUp(
  n: number,
  options: Partial<GatewayOptions> | ((address: string) => Partial<GatewayOptions>),
  withHealth = true,
): Promise<string> {
  backends = await Promise.all(Array.from({ length: n }, () => backend(withHealth)));
  const address = addressOf(backends);
  gw = await startGateway({
    backend: address,
    ...(typeof options === "function" ? options(address) : options),
  });
  return address;
}

/** `total` GETs by `workers` concurrent loops; the HTTP statuses in order of completion. */
async function load(total: number, workers: number, onEach?: (done: number) => void): Promise<number[]> {
  const statuses: number[] = [];
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < total) {
      sent++;
      const res = await gw!.call("GET", "/v1/echo/x");
      statuses.push(res.status);
      onEach?.(statuses.length);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return statuses;
}

function endpoint(address: string, port: number): EndpointStatus {
  const status = gw!.gateway.status().backends[address] as { endpoints: EndpointStatus[] };
  return status.endpoints.find((e) => e.address === `127.0.0.1:${port}`)!;
}

/** Polls `check` (bounded: up to `tries` rounds of `fn`), for state the gateway reaches in the background. */
async function eventually(check: () => boolean, fn: () => Promise<unknown>, tries = 200): Promise<void> {
  for (let i = 0; i < tries && !check(); i++) await fn();
  expect(check()).toBe(true);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("outlier ejection", () => {
  it("loses no idempotent request when one of three dies under load, ejects it, takes it back after restart", async () => {
    const address = await setUp(3, {
      balancing: {
        outlierDetection: { consecutiveFailures: 2, baseEjectionTimeMs: 300, maxEjectionTimeMs: 1000 },
      },
    });
    const victim = backends[1]!;
    await load(30, 3); // every endpoint connected
    // 3 loops: at most 3 calls are lost with the victim, within the default retry budget's floor (3
    // retries in flight); more at once would be refused by the budget, as it should.
    const statuses = await load(300, 3, (done) => {
      if (done === 60) victim.stop();
    });
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(300);
    await eventually(
      () => endpoint(address, victim.port).timesEjected > 0,
      () => load(3, 1).then(() => pause(50)),
    );
    // The status page shows it (GET /_protogate/status, section backends).
    const page = (await gw!.call("GET", "/_protogate/status")).body as {
      backends: Record<string, { policy: string; endpoints: EndpointStatus[] }>;
    };
    expect(page.backends[address]!.policy).toBe("round_robin");
    expect(page.backends[address]!.endpoints.map((e) => e.address)).toEqual(
      backends.map((b) => `127.0.0.1:${b.port}`),
    );

    await victim.start(); // the same port
    victim.calls = 0;
    await eventually(
      () => victim.calls > 0,
      () => load(3, 1).then(() => pause(50)),
    );
    expect(endpoint(address, victim.port).state).toBe("ready");
  });

  it("never ejects the last endpoints: at most the configured share, at least one stays", async () => {
    const address = await setUp(2, {
      balancing: { outlierDetection: { consecutiveFailures: 1, baseEjectionTimeMs: 60_000 } },
    });
    await load(10, 2);
    for (const b of backends) b.stop();
    await eventually(
      () => backends.every((b) => endpoint(address, b.port).consecutiveFailures > 0),
      () => pause(50),
    );
    const ejected = backends.filter((b) => endpoint(address, b.port).ejectedForMs !== undefined);
    expect(ejected).toHaveLength(1);
  });
});

describe("health checks (grpc.health.v1)", () => {
  it("takes a NOT_SERVING endpoint out of rotation and back when it serves again", async () => {
    // The per-address setting wins over the common one (whose interval would be too long here).
    const address = await setUp(3, (a) => ({
      balancing: { healthCheck: { intervalMs: 60_000 } },
      balancingByAddress: {
        [a]: { healthCheck: { intervalMs: 30, unhealthyThreshold: 1, healthyThreshold: 1 } },
      },
    }));
    const sick = backends[2]!;
    await load(30, 3);
    sick.serving.set("", 2); // NOT_SERVING
    await eventually(
      () => !endpoint(address, sick.port).healthy,
      () => pause(20),
    );
    expect(endpoint(address, sick.port).health).toBe("NOT_SERVING");
    sick.calls = 0;
    expect((await load(30, 3)).every((s) => s === 200)).toBe(true);
    expect(sick.calls).toBe(0);

    sick.serving.set("", 1);
    await eventually(
      () => endpoint(address, sick.port).healthy,
      () => pause(20),
    );
    await load(30, 3);
    expect(sick.calls).toBeGreaterThan(0);
  });

  it("asks about the configured service name, and takes a server without Health as serving", async () => {
    const address = await setUp(
      2,
      {
        balancing: { healthCheck: { intervalMs: 30, unhealthyThreshold: 1, service: "test.v1.EchoService" } },
      },
      false,
    );
    await load(10, 2);
    await eventually(
      () => backends.every((b) => endpoint(address, b.port).health === "SERVING"),
      () => pause(20),
    );
    expect(backends.every((b) => endpoint(address, b.port).healthy)).toBe(true);
  });

  it("a service the server does not know (SERVICE_UNKNOWN) is unhealthy", async () => {
    const address = await setUp(2, {
      balancing: { healthCheck: { intervalMs: 30, unhealthyThreshold: 1, service: "no.such.Service" } },
    });
    backends[0]!.serving.set("no.such.Service", 1);
    await load(10, 2);
    await eventually(
      () => endpoint(address, backends[1]!.port).health === "SERVICE_UNKNOWN",
      () => pause(20),
    );
    expect(endpoint(address, backends[0]!.port).healthy).toBe(true);
    expect(endpoint(address, backends[1]!.port).healthy).toBe(false);
  });
});

describe("least_request", () => {
  it("prefers the idle endpoints over a slow one (power of two choices), and counts every call out", async () => {
    const address = await setUp(3, { balancing: { policy: "least_request" } });
    await load(9, 3);
    const slow = backends[0]!;
    slow.delayMs = 400;
    for (const b of backends) b.calls = 0;
    const statuses = await load(90, 4);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Round robin would send it a third (30); here it gets a call only while the others are as busy.
    expect(slow.calls).toBeLessThan(15);
    for (const b of backends) expect(endpoint(address, b.port).inFlight).toBe(0);
  });
});

describe("readBalancing() and balancingFor()", () => {
  it.each([
    [{}, {}],
    [{ policy: "least_request" }, { policy: "least_request" }],
    [
      { outlierDetection: false, healthCheck: false },
      { outlierDetection: false, healthCheck: false },
    ],
    [
      {
        outlierDetection: {
          consecutiveFailures: 3,
          baseEjectionTime: "10s",
          maxEjectionTime: "1m",
          maxEjectionPercent: 50,
          codes: ["UNAVAILABLE", "INTERNAL"],
        },
      },
      {
        outlierDetection: {
          consecutiveFailures: 3,
          baseEjectionTimeMs: 10_000,
          maxEjectionTimeMs: 60_000,
          maxEjectionPercent: 50,
          codes: [14, 13],
        },
      },
    ],
    [
      {
        healthCheck: {
          interval: "2s",
          timeout: "250ms",
          healthyThreshold: 2,
          unhealthyThreshold: 3,
          service: "",
        },
      },
      {
        healthCheck: {
          intervalMs: 2000,
          timeoutMs: 250,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
          service: "",
        },
      },
    ],
  ])("reads %j", (input, expected) => {
    expect(readBalancing(input, "backends.balancing")).toEqual(expected);
  });

  it.each([
    [{ policy: "random" }, "backends.balancing.policy"],
    [{ weights: {} }, "backends.balancing.weights"],
    [
      { outlierDetection: { consecutiveFailures: 0 } },
      "backends.balancing.outlierDetection.consecutiveFailures",
    ],
    [
      { outlierDetection: { maxEjectionPercent: 101 } },
      "backends.balancing.outlierDetection.maxEjectionPercent",
    ],
    [{ outlierDetection: { codes: ["OK"] } }, "backends.balancing.outlierDetection.codes[0]"],
    [{ outlierDetection: { codes: ["toString"] } }, "backends.balancing.outlierDetection.codes[0]"],
    [
      { outlierDetection: { baseEjectionTime: "soon" } },
      "backends.balancing.outlierDetection.baseEjectionTime",
    ],
    [{ healthCheck: { service: 7 } }, "backends.balancing.healthCheck.service"],
    [{ healthCheck: { unhealthyThreshold: 1.5 } }, "backends.balancing.healthCheck.unhealthyThreshold"],
    ["round_robin", "backends.balancing"],
  ])("refuses %j at %s", (input, where) => {
    expect(() => readBalancing(input, "backends.balancing")).toThrow(
      expect.objectContaining({ name: "LoadError", where }),
    );
  });

  it("layers the address's own setting over the common one over the defaults; false turns a part off", () => {
    expect(balancingFor("a", undefined, undefined)).toBe(DEFAULT_BALANCING);
    const common = { policy: "least_request" as const, healthCheck: { intervalMs: 100 } };
    const own = { "a:1": { outlierDetection: false as const, healthCheck: { service: "s" } } };
    expect(balancingFor("a:1", common, own)).toEqual({
      policy: "least_request",
      outlierDetection: undefined,
      healthCheck: { ...DEFAULT_HEALTH_CHECK, intervalMs: 100, service: "s" },
    });
    expect(balancingFor("b:1", common, own)).toEqual({
      policy: "least_request",
      outlierDetection: DEFAULT_OUTLIER_DETECTION,
      healthCheck: { ...DEFAULT_HEALTH_CHECK, intervalMs: 100 },
    });
    expect(balancingFor("b:1", { outlierDetection: false }, { "b:1": {} }).outlierDetection).toBeUndefined();
  });
});

describe("the Health messages, coded by hand", () => {
  it("encodes HealthCheckRequest as protobuf does (prefix, field 1), for any service name", () => {
    const r = rng(17);
    for (let i = 0; i < 300; i++) {
      const name = Array.from({ length: r.int(201) }, () => String.fromCodePoint(32 + r.int(0x7e0))).join("");
      const framed = encodeRequest(name);
      const body = framed.subarray(5);
      expect(framed.readUInt32BE(1)).toBe(body.length);
      const expected = name
        ? Buffer.concat([Buffer.from([0x0a]), varint(Buffer.byteLength(name)), Buffer.from(name)])
        : Buffer.alloc(0);
      expect(body.equals(expected), `seed 17, case ${i}`).toBe(true);
    }
  });

  it.each([
    ["", "UNKNOWN"],
    ["0801", "SERVING"],
    ["0802", "NOT_SERVING"],
    ["0803", "SERVICE_UNKNOWN"],
    ["0809", "UNKNOWN"],
    ["12036162630801", "SERVING"], // an unknown length-delimited field first
    ["0802080a", "UNKNOWN"], // the last value wins, as protobuf says
    ["08", "UNKNOWN"], // truncated
    ["1205ab", "UNKNOWN"], // a length past the end
  ])("decodes HealthCheckResponse %s as %s", (hex, expected) => {
    expect(decodeResponse(Buffer.from(hex, "hex"))).toBe(expected);
  });

  it("never throws on any bytes", () => {
    const r = rng(4);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: r.int(13) }, () => r.int(256)));
      expect(() => decodeResponse(bytes)).not.toThrow();
    }
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}
