import { request } from "node:http";
import { afterAll, beforeAll } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/** Shared by the hardening tests (and the codec's): hostile inputs and a client that sends raw bytes. */

/** Bytes from text (each char one byte, latin1) and raw byte values: `bytes('{"s":"', [0xff], '"}')`. */
export const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

/**
 * A Kitchen JSON whose `any` is an Any wrapping an Any `levels` times around a Duration: a well-known
 * type at the core, so that only the Any themselves count the depth.
 */
export function anyOfAny(levels: number, duration = "1.5s"): string {
  let json = `{"@type":"type.googleapis.com/google.protobuf.Duration","value":"${duration}"}`;
  for (let i = 0; i < levels; i++)
    json = `{"@type":"type.googleapis.com/google.protobuf.Any","value":${json}}`;
  return `{"any":${json}}`;
}

export interface RawAnswer {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** An HTTP request with a body of exact bytes (fetch would re-encode a string as UTF-8). */
export function rawRequest(baseUrl: string, method: string, path: string, body?: Buffer): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method,
        headers: body ? { "content-type": "application/json" } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            contentType: res.headers["content-type"],
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** An echo backend and a gateway in front of it, started before the file's tests and closed after. */
export function echoGateway(): { readonly backend: EchoServer; readonly gw: RunningGateway } {
  const env = {} as { backend: EchoServer; gw: RunningGateway };
  beforeAll(async () => {
    env.backend = await startEchoServer();
    env.gw = await startGateway({ backend: env.backend.address });
  });
  afterAll(async () => {
    await env.gw?.close();
    await env.backend?.close();
  });
  return env;
}
