import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EchoServer, startEchoServer } from "../helpers/echo-server.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { scriptedGateway } from "./fixture.js";

/**
 * One caller's cached answer never reaches another caller or an anonymous one. The backend's
 * Metadata method answers with the metadata it received, so an answer shows whose it was.
 */
const METADATA = "test.v1.EchoService.Metadata";
const ALICE = { authorization: "Bearer alice" };
const BOB = { authorization: "Bearer bob" };
const ANON: Record<string, string> = {};
const COOKIE = { cookie: "sid=carol" };
const NAMES = new Map<Who, string>([
  [ALICE, "alice"],
  [BOB, "bob"],
  [ANON, "anonymous"],
  [COOKIE, "carol"],
]);
let seq = 0;
type Who = Record<string, string>;

describe("cache privacy", () => {
  let backend: EchoServer;
  let shared: RunningGateway;
  let perCaller: RunningGateway;
  beforeAll(async () => {
    backend = await startEchoServer();
    shared = await startGateway({
      backend: backend.address,
      methodSettings: { [METADATA]: { cache: { ttlMs: 60_000 } } },
    });
    perCaller = await startGateway({
      backend: backend.address,
      methodSettings: { [METADATA]: { cache: { ttlMs: 60_000, scope: "principal" } } },
    });
  });
  afterAll(async () => {
    await shared.close();
    await perCaller.close();
    await backend.close();
  });
  beforeEach(() => {
    backend.calls.length = 0;
  });

  /** Whose answer a request got (by the request id the backend saw), and whether it was a hit. */
  async function ask(gw: RunningGateway, path: string, who: Who) {
    const id = `${NAMES.get(who)}.${++seq}`;
    const res = await gw.call("GET", path, { headers: { ...who, "x-request-id": id } });
    const received = (res.body as { received: Record<string, string> }).received;
    return {
      owner: received["x-request-id"]!.split(".")[0],
      hit: /; hit;/.test(res.headers.get("cache-status") ?? ""),
    };
  }

  // Steps run in order on one fresh key each: [caller, expected owner of the answer, expected hit].
  const table: Array<[string, "shared" | "principal", Array<[Who, string, boolean]>]> = [
    [
      "anonymous answers are shared between anonymous callers",
      "shared",
      [
        [ANON, "anonymous", false],
        [ANON, "anonymous", true],
      ],
    ],
    [
      "a caller with a token is not served the shared entry, nor stored",
      "shared",
      [
        [ANON, "anonymous", false],
        [ALICE, "alice", false],
        [ALICE, "alice", false],
        [ANON, "anonymous", true],
      ],
    ],
    [
      "an answer to a token never reaches an anonymous caller",
      "shared",
      [
        [ALICE, "alice", false],
        [ANON, "anonymous", false],
        [BOB, "bob", false],
      ],
    ],
    [
      "cookies are credentials too",
      "shared",
      [
        [COOKIE, "carol", false],
        [ANON, "anonymous", false],
        [COOKIE, "carol", false],
      ],
    ],
    [
      "scope principal: one entry per caller",
      "principal",
      [
        [ALICE, "alice", false],
        [ALICE, "alice", true],
        [BOB, "bob", false],
        [ANON, "anonymous", false],
        [BOB, "bob", true],
        [ANON, "anonymous", true],
        [ALICE, "alice", true],
        [COOKIE, "carol", false],
      ],
    ],
  ];
  it.each(table)("%s", async (_name, scope, steps) => {
    const gw = scope === "shared" ? shared : perCaller;
    const path = `/v1/metadata?s=${encodeURIComponent(_name)}`;
    const seen = [];
    for (const [who] of steps) seen.push(await ask(gw, path, who));
    expect(seen).toEqual(steps.map(([, owner, hit]) => ({ owner, hit })));
  });
});

describe("cache privacy: what the backend marks", () => {
  const f = scriptedGateway({
    methodSettings: { "test.v1.EchoService.EchoGet": { cache: { ttlMs: 60_000, scope: "principal" } } },
  });

  it.each(["private", "no-store", "private, max-age=60"])(
    "never stores an answer marked %s, even per principal",
    async (cc) => {
      f.backend.behave(() => ({ reply: "echo", metadata: { "cache-control": cc } }));
      const path = `/v1/echo/${encodeURIComponent(cc)}`;
      await f.gw.call("GET", path, { headers: ALICE });
      await f.gw.call("GET", path, { headers: ALICE });
      expect(f.backend.calls).toHaveLength(2);
    },
  );
});

describe("cache privacy: public answers", () => {
  const f = scriptedGateway({
    methodSettings: { "test.v1.EchoService.EchoGet": { cache: { ttlMs: 60_000 } } },
  });

  it("stores an answer the backend marks public even for a caller with a token, and serves it to all", async () => {
    f.backend.behave(() => ({ reply: "echo", metadata: { "cache-control": "public, max-age=60" } }));
    await f.gw.call("GET", "/v1/echo/pub", { headers: ALICE });
    const bob = await f.gw.call("GET", "/v1/echo/pub", { headers: BOB });
    const anon = await f.gw.call("GET", "/v1/echo/pub");
    expect(f.backend.calls).toHaveLength(1);
    expect(bob.headers.get("cache-status")).toMatch(/; hit;/);
    expect(anon.headers.get("cache-status")).toMatch(/; hit;/);
  });
});
