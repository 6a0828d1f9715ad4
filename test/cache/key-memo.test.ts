import { describe, expect, it } from "vitest";
import { CacheKeys, cacheKey } from "../../src/interceptors/cache/key.js";
import { type CachePolicy, DEFAULT_CACHE_POLICY } from "../../src/interceptors/cache/policy.js";
import type { Route } from "../../src/routing/route.js";
import { ENCODED_OFFSET, type UpstreamCall } from "../../src/upstream/call.js";
import { rng } from "../helpers/random.js";

/**
 * The remembered keys (CacheKeys) must be exactly cacheKey's, for every request, however its inputs
 * are split: a wrong key served from the memo would give one caller another's answer. Inputs are drawn
 * so that boundaries could be confused (bytes that spell "\0accept=" in the body, header values with
 * Latin-1 and non-Latin-1 characters, empty values), and each call is asked twice (the second from the
 * memo).
 */
const route = (origin: string) =>
  ({
    origin,
    write: { emitUnpopulated: false, useProtoNames: false, enumsAsNumbers: false },
    method: { fullName: "test.v1.EchoService.Echo", input: {} },
  }) as unknown as Route;

function call(r: Route, body: Buffer, headers: Record<string, string>): UpstreamCall {
  const encoded = Buffer.concat([Buffer.alloc(ENCODED_OFFSET), body]);
  return { route: r, encoded, headers, message: {} } as unknown as UpstreamCall;
}

const PIECES = ["", "a", "\0", "\0accept=", "x=1", "é", "ÿ", "日本", "\0-", ":", "12:", "\u0000\u0001"];

describe("CacheKeys: remembered keys are cacheKey's", () => {
  it("gives cacheKey's key for random requests, first time and from the memo (seeded)", () => {
    const keys = new CacheKeys();
    const routes = [route("GET /v1/echo/{s}"), route("GET /v1/echo/{s}/n")];
    const numbers = routes.map(() => keys.routeNumber());
    const policy: CachePolicy = { ...DEFAULT_CACHE_POLICY, vary: ["accept", "accept-language"] };
    const seen = new Map<string, string>(); // key -> what produced it
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const piece = () => r.pick(PIECES) + r.pick(PIECES);
      const which = r.int(2);
      const c = call(routes[which]!, Buffer.from(piece(), r.chance(0.5) ? "latin1" : "utf8"), {
        ...(r.chance(0.7) ? { accept: piece() } : {}),
        ...(r.chance(0.5) ? { "accept-language": piece() } : {}),
      });
      const caller = r.chance(0.5) ? "-" : piece();
      const expected = `test.v1.EchoService.Echo:${cacheKey(c, policy, false, caller)}`;
      expect(keys.of(numbers[which]!, c, policy, false, caller), `seed ${seed}`).toBe(expected);
      expect(keys.of(numbers[which]!, c, policy, false, caller), `seed ${seed}, again`).toBe(expected);
      // distinct inputs never share a key (the hash's own guarantee, checked through the memo); an
      // absent header and an empty one are the same input (headerValue)
      const inputs = JSON.stringify([
        which,
        c.encoded.toString("hex"),
        c.headers.accept ?? "",
        c.headers["accept-language"] ?? "",
        caller,
      ]);
      const before = seen.get(expected);
      if (before !== undefined) expect(before, `seed ${seed}`).toBe(inputs);
      seen.set(expected, inputs);
    }
  });

  it("does not mix up two routes whose requests are the same", () => {
    const keys = new CacheKeys();
    const a = route("GET /v1/a/{s}");
    const b = route("GET /v1/b/{s}");
    const [na, nb] = [keys.routeNumber(), keys.routeNumber()];
    const body = Buffer.from("same");
    const ka = keys.of(na, call(a, body, {}), DEFAULT_CACHE_POLICY, false, "-");
    const kb = keys.of(nb, call(b, body, {}), DEFAULT_CACHE_POLICY, false, "-");
    expect(ka).not.toBe(kb);
    expect(kb).toBe(
      `test.v1.EchoService.Echo:${cacheKey(call(b, body, {}), DEFAULT_CACHE_POLICY, false, "-")}`,
    );
  });
});
