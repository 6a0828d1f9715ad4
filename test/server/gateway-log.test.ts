import { PassThrough, Readable } from "node:stream";
import Fastify from "fastify";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayLogController } from "../../src/server/gateway-log.js";

/** A Fastify app as the gateway makes it (no logger of its own), its controller writing to `lines`. */
function appWithLines() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new PassThrough();
  sink.on("data", (b: Buffer) => {
    for (const l of b.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l));
  });
  const app = Fastify({
    logger: false,
    logController: new GatewayLogController(pino({ level: "info" }, sink)),
  });
  return { app, lines };
}

let close: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe("GatewayLogController: Fastify's fault lines reach the gateway's logger", () => {
  it("logs a response body stream that fails after its headers, with the request id", async () => {
    const { app, lines } = appWithLines();
    close = () => app.close();
    app.get("/broken", (_req, reply) => {
      const body = new Readable({ read() {} });
      body.push("{");
      setTimeout(() => body.destroy(new Error("backend went away")), 20);
      return reply.type("application/json").send(body);
    });
    const res = await app.inject({ method: "GET", url: "/broken" }).catch((e: Error) => e);
    expect(res).toBeDefined();
    await expect.poll(() => lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatchObject({
      level: 40,
      msg: "response terminated with an error after its headers",
      err: { message: "backend went away" },
    });
    expect(lines[0]!.reqId).toEqual(expect.any(String));
  });

  it("writes no per-request lines (the access log's job)", async () => {
    const { app, lines } = appWithLines();
    close = () => app.close();
    app.get("/ok", () => ({ ok: true }));
    expect((await app.inject({ method: "GET", url: "/ok" })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/nope" })).statusCode).toBe(404);
    await new Promise((r) => setTimeout(r, 20));
    expect(lines).toEqual([]);
  });

  it("adds no listener of Fastify's to a response (the cost a Fastify logger has on every request)", async () => {
    const { app } = appWithLines();
    close = () => app.close();
    let finishListeners = -1;
    app.get("/count", (_req, reply) => {
      finishListeners = reply.raw.listenerCount("finish") + reply.raw.listenerCount("error");
      return "x";
    });
    const withLogger = Fastify({ logger: { level: "silent" } });
    let loggedListeners = -1;
    withLogger.get("/count", (_req, reply) => {
      loggedListeners = reply.raw.listenerCount("finish") + reply.raw.listenerCount("error");
      return "x";
    });
    await app.inject({ method: "GET", url: "/count" });
    await withLogger.inject({ method: "GET", url: "/count" });
    await withLogger.close();
    expect(loggedListeners - finishListeners).toBe(2); // Fastify's 'finish' and 'error' listeners
  });
});
