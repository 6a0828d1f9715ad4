import type { GatewayOptions } from "../../src/config/options.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { TEST_PROTOS } from "./echo-server.js";

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  /** fetch against the gateway; returns status, headers and the parsed JSON body (or text). */
  call(
    method: string,
    path: string,
    init?: { body?: string; headers?: Record<string, string> },
  ): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export async function startGateway(
  options: Partial<GatewayOptions> & { backend?: string },
): Promise<RunningGateway> {
  const { backend, ...rest } = options;
  const gateway = await createGateway({
    protos: [TEST_PROTOS],
    port: 0,
    logLevel: false,
    ...(backend ? { defaultBackend: backend } : {}),
    ...rest,
  });
  const url = await gateway.listen();
  return {
    gateway,
    url,
    async call(method, path, init = {}) {
      const res = await fetch(url + path, { method, body: init.body, headers: init.headers });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body, text };
    },
    close: () => gateway.close(),
  };
}
