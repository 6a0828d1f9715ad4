import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type CachePolicy, DEFAULT_CACHE_POLICY } from "../../src/interceptors/cache/policy.js";
import { RawKeys } from "../../src/interceptors/cache/raw-keys.js";
import type { RawRequest } from "../../src/upstream/call.js";
import { rng } from "../helpers/random.js";
import { scriptedGateway } from "./fixture.js";

const GET = "test.v1.EchoService.EchoGet";
const keyOf = (status: string | null) => /key="([^"]+)"/.exec(status ?? "")?.[1];

/**
 * A hit on a request seen lately is keyed by the request as sent (cache/raw-keys.ts), without
 * transcoding it: the remembered key must be the one its canonical request gives, so that no request
 * is ever answered with another's entry, and a request that does not transcode must still be its 400.
 */
describe("cache: hits keyed by the request as sent", () => {
  const f = scriptedGateway({
    methodSettings: { [GET]: { cache: { ttlMs: 60_000 } } },
  });

  it("answers each of many close requests with its own entry, seen again or written another way (seeded)", async () => {
    const r = rng(7);
    const first = new Map<string, { body: unknown; key: string | undefined }>(); // canonical form -> first answer
    for (let i = 0; i < 120; i++) {
      // few values, so that requests share paths and query parts: a key mixed up would show
      const s = r.pick(["a", "b"]);
      // [canonical form, as written]: the JSON and the proto name of one field are one request
      const i32 = `i32=${r.int(3)}`;
      const params: Array<[string, string]> = [[i32, i32]];
      if (r.chance(0.5)) {
        const v = r.pick(["x", "y"]);
        params.push([`rs=${v}`, `rs=${v}`]);
      }
      if (r.chance(0.4)) {
        const v = r.pick(["p", "q"]);
        params.push([`jn=${v}`, `${r.chance(0.5) ? "json_named" : "customName"}=${v}`]);
      }
      if (r.chance(0.3)) params.push([`mss=${r.pick(["k", "l"])}`, ""]);
      for (const p of params) if (p[0].startsWith("mss=")) p[1] = `mss[${p[0].slice(4)}]=v`;
      const canonical = `${s}?${params
        .map((p) => p[0])
        .sort()
        .join("&")}`;
      // the same request in another spelling: query order, names
      const written = (r.chance(0.5) ? [...params].reverse() : params).map((p) => p[1]);
      const path = `/v1/echo/${s}?${written.join("&")}`;
      const res = await f.gw.call("GET", path);
      expect(res.status, path).toBe(200);
      const seen = first.get(canonical);
      if (seen === undefined)
        first.set(canonical, { body: res.body, key: keyOf(res.headers.get("cache-status")) });
      else {
        expect(res.body, `${path}: another request's answer`).toEqual(seen.body);
        expect(keyOf(res.headers.get("cache-status")), path).toBe(seen.key);
        expect(res.headers.get("cache-status"), path).toMatch(/; hit;/);
      }
    }
    // one backend call per distinct request, however often and however written it came
    expect(f.backend.calls).toHaveLength(first.size);
    expect(new Set([...first.values()].map((v) => v.key)).size).toBe(first.size);
  });

  it("sends a request seen before to the backend with its own message once its entry is purged", async () => {
    const path = "/v1/echo/purged?i32=2&rs=z";
    const a = await f.gw.call("GET", path);
    const purge = await f.gw.call("POST", "/_protogate/cache/purge", {
      body: JSON.stringify({ route: GET }),
      headers: { "content-type": "application/json" },
    });
    expect(purge.status).toBe(200);
    const b = await f.gw.call("GET", path);
    expect(b.headers.get("cache-status")).toMatch(/^protogate; fwd=miss; fwd-status=200; stored;/);
    expect(b.body).toEqual(a.body);
    expect(b.body).toMatchObject({ s: "purged", i32: 2, rs: ["z"] });
    expect(f.backend.calls).toHaveLength(2);
  });

  it("answers a request that does not transcode with its 400 every time, before and after a good one", async () => {
    const bad = "/v1/echo/bad?i32=notanumber";
    for (const path of [bad, "/v1/echo/bad?i32=1", bad, "/v1/echo/bad?i32=1", bad]) {
      const res = await f.gw.call("GET", path);
      expect(res.status, path).toBe(path === bad ? 400 : 200);
      if (path === bad) expect(res.headers.get("cache-status")).toBeNull();
    }
    expect(f.backend.calls).toHaveLength(1);
  });
});

const PROTOS = fileURLToPath(new URL("./protos", import.meta.url));

describe("cache: hits of a POST keyed by the request as sent", () => {
  const f = scriptedGateway({
    protos: [PROTOS],
    routeDefaults: { cache: { ttlMs: 60_000, noSideEffects: true } },
  });

  it("keys by the body: one target, different bodies, each its own answer; a body that is not JSON, its 400", async () => {
    const bodies = ['{"s":"x"}', '{"s":"y"}', '{"s":"x"}', '{"s":"y"}', '{"s":', '{"s":"x"}', '{"s":'];
    for (const body of bodies) {
      const res = await f.gw.call("POST", "/v1/search", {
        body,
        headers: { "content-type": "application/json" },
      });
      if (body === '{"s":') {
        expect(res.status).toBe(400);
        continue;
      }
      expect(res.status).toBe(200);
      expect(res.body).toEqual(JSON.parse(body));
    }
    expect(f.backend.calls).toHaveLength(2);
  });
});

describe("RawKeys: a remembered key is the one set for that route and request", () => {
  const raw = (target: string, body?: string): RawRequest => ({
    target,
    body: body === undefined ? undefined : Buffer.from(body),
    contentType: body === undefined ? undefined : "application/json",
  });
  const noVary = DEFAULT_CACHE_POLICY;
  const vary: CachePolicy = { ...DEFAULT_CACHE_POLICY, vary: ["accept-language"] };

  it("never answers with another route's, request's, Vary value's or caller's key (seeded, against a model)", () => {
    const keys = new RawKeys();
    const model = new Map<string, string>();
    const r = rng(11);
    for (let i = 0; i < 5000; i++) {
      const route = 1 + r.int(6); // more routes than one target keeps: the oldest are dropped
      const request = raw(
        r.pick(["/a", "/a?x=1", "/b", "/b?x=1"]),
        r.chance(0.3) ? r.pick(["{}", "{ }"]) : undefined,
      );
      const policy = r.chance(0.3) ? vary : noVary;
      const headers = r.chance(0.5) ? { "accept-language": r.pick(["en", "fr"]) } : {};
      const caller = r.pick(["-", "-", "iss sub", "c:1"]);
      const id = JSON.stringify([
        route,
        request.target,
        request.body?.toString(),
        policy.vary,
        policy.vary.length ? headers : {},
        caller,
      ]);
      const got = keys.get(route, request, policy, headers, caller);
      if (got !== undefined) expect(got, `step ${i}`).toBe(model.get(id));
      if (r.chance(0.5)) {
        const key = `k${i}`;
        keys.set(route, request, policy, headers, caller, key);
        model.set(id, key);
        expect(keys.get(route, request, policy, headers, caller), `step ${i}, just set`).toBe(key);
      }
    }
  });
});
