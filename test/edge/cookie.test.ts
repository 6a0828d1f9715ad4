import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/** A token read from a cookie: a value that does not percent-decode is no token (issue #20 point 12). */
let backend: EchoServer;
let gw: RunningGateway;
beforeAll(async () => {
  backend = await startEchoServer();
  gw = await startGateway({
    backend: backend.address,
    auth: readAuthConfig(
      {
        providers: [
          {
            issuer: "https://issuer.test",
            // Never fetched: no request here carries a token.
            jwksUri: "http://127.0.0.1:9/jwks.json",
            from: [{ cookie: "session" }],
          },
        ],
        default: "authenticated",
      },
      "auth",
    ),
    methodSettings: { "test.v1.EchoService.EchoPrioLiteral": { auth: { require: "public" } } },
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

describe("cookie tokens", () => {
  const cookies = ["session=%", "session=%E0%A4%A", "theme=%; session=%zz", "session="];
  it.each(cookies)("should treat %j as no token: 401 on a protected route", async (cookie) => {
    const res = await gw.call("GET", "/v1/metadata", { headers: { cookie } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 16 });
  });

  it.each(cookies)("should treat %j as no token: 200 on a public route", async (cookie) => {
    const res = await gw.call("GET", "/v1/prio/special", { headers: { cookie } });
    expect(res.status).toBe(200);
  });
});
