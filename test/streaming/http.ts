import { request } from "node:http";
import type { Gateway } from "../../src/server/gateway.js";
import { createGateway } from "../../src/server/gateway.js";
import "../../src/server/streaming/settings.js";
import type { MethodSettings } from "../../src/config/options.js";
import { STREAM_PROTOS } from "./server.js";

/** A raw HTTP/1.1 answer: the exact body bytes and the chunked trailers. */
export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  trailers: Record<string, string | undefined>;
}

/**
 * One request over node:http, the body read whole (for framing byte-for-byte checks). A `body` given as
 * parts is written one part every 20 ms, so that it arrives in several chunks, without Content-Length.
 */
export function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | readonly string[],
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString("utf8"),
          trailers: res.trailers,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    if (typeof body !== "object") return void req.end(body);
    let i = 0;
    const next = (): void => {
      if (i === body.length) return void req.end();
      req.write(body[i++]!);
      setTimeout(next, 20);
    };
    next();
  });
}

/** A gateway in front of the streaming test backend, with per-method settings of Streams. */
export async function streamGateway(
  backend: string,
  perMethod: Record<string, MethodSettings> = {},
): Promise<{ gateway: Gateway; url: string }> {
  const methodSettings: Record<string, MethodSettings> = {};
  for (const [m, s] of Object.entries(perMethod)) methodSettings[`streamtest.v1.Streams.${m}`] = s;
  const gateway = await createGateway({
    protos: [STREAM_PROTOS],
    port: 0,
    logLevel: false,
    defaultBackend: backend,
    methodSettings,
  });
  return { gateway, url: await gateway.listen() };
}
