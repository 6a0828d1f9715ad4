import { readFileSync } from "node:fs";
import { join } from "node:path";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: the example is plain JS
import { startBookstore } from "../../examples/bookstore/server.js";
import { readAuthConfig } from "../../src/policies/auth/config.js";
import { readRateLimitConfig } from "../../src/policies/rate-limit/config.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { REPO } from "../helpers/process.js";
import { mappingsDir } from "./helpers.js";

// README "Per-composite settings": the mapping file as written there, in front of the example bookstore,
// and the answers it shows (401 without a token, the rate limit headers, the POST composite).
const readme = readFileSync(join(REPO, "README.md"), "utf8");
const YAML = /```yaml\n(# mappings\/overview\.yaml\n[\s\S]*?)```/.exec(readme)![1]!;
const ISSUER = "https://readme.test";

let store: { address: string; close(): Promise<void> };
let gw: RunningGateway;
let token: string;

beforeAll(async () => {
  const keys = await generateKeyPair("ES256");
  token = await new SignJWT({ sub: "reader", scope: "shelves:read" })
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer(ISSUER)
    .setExpirationTime("5m")
    .sign(keys.privateKey);
  store = await startBookstore();
  gw = await startGateway({
    protos: [join(REPO, "protos")],
    backend: store.address,
    mappings: mappingsDir(YAML),
    auth: readAuthConfig(
      {
        providers: [
          { issuer: ISSUER, keys: [{ pem: await exportSPKI(keys.publicKey) }], algorithms: ["ES256"] },
        ],
        default: "authenticated",
      },
      "auth",
    ),
    rateLimit: readRateLimitConfig({ store: "memory" }, "rateLimit"),
  });
});
afterAll(async () => {
  await gw?.close();
  await store?.close();
});

describe("README: per-composite settings", () => {
  it("should refuse the dashboard without a token and serve it with one, under its own limit", async () => {
    expect((await gw.call("GET", "/v1/shelves/1/dashboard")).status).toBe(401);
    const r = await gw.call("GET", "/v1/shelves/1/dashboard", {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("ratelimit-policy")).toBe('"dashboard";q=10;w=60');
    expect(r.headers.get("ratelimit")).toMatch(/^"dashboard";r=9;t=\d+$/);
    expect(r.body).toMatchObject({
      shelf: { id: "1", theme: "Fiction" },
      stats: { shelfCount: "2", bookCount: "3" },
    });
  });

  it("should answer the public POST composite from the body, though the gateway's default is authenticated", async () => {
    const r = await gw.call("POST", "/v1/shelves/1/books:compare", {
      body: '{"a": 1, "b": 2}',
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      first: { id: "1", title: "The Left Hand of Darkness" },
      second: { id: "2", title: "Kindred" },
    });
  });
});
