import { describe, expect, it } from "vitest";
import { encodeMessage, JsonMappingError } from "../../src/codec/index.js";
import { PercentDecodeError } from "../../src/routing/decode.js";
import { loadConfig } from "../../src/server/load-table.js";
import { buildRequest } from "../../src/transcode/request.js";
import { TEST_PROTOS } from "../helpers/echo-server.js";
import { rng } from "../helpers/random.js";

const config = loadConfig({ protos: [TEST_PROTOS] });
const route = config.table.routes.find(
  (r) => r.method.name === "EchoGet" && r.template.source === "/v1/echo/{s}",
)!;

const KEYS = [
  "s",
  "i32",
  "i64",
  "u64",
  "b",
  "by",
  "fl",
  "color",
  "rs",
  "ri64",
  "rcolor",
  "inner.name",
  "inner.n",
  "inner.child.n",
  "ts",
  "dur",
  "mask",
  "w64",
  "wstr",
  "oa",
  "ob",
  "customName",
  "json_named",
  "mss",
  "inner",
  "nope",
  "a.b.c",
  "",
  "rinner.name",
];
const VALUES = [
  "",
  "0",
  "-1",
  "1.5",
  "1e3",
  "abc",
  "true",
  "false",
  "COLOR_RED",
  "2",
  "AQID",
  "A_-w",
  "%",
  "%2",
  "%E2%28",
  "+",
  "2024-01-01T00:00:00Z",
  "1.5s",
  "a,bC",
  "NaN",
  "99999999999999999999",
  "\u00e9",
  "=",
  "&",
];

describe("query mapping, property-based", () => {
  it("either builds a request that encodes, or rejects with a clear 400-class error", () => {
    const r = rng(3);
    let accepted = 0;
    for (let run = 0; run < 3000; run++) {
      const pairs = Array.from({ length: r.int(6) }, () => `${r.pick(KEYS)}=${r.pick(VALUES)}`);
      const query = pairs.join("&");
      try {
        const msg = buildRequest(route, {
          segments: ["v1", "echo", "x"],
          query,
          body: undefined,
          contentType: undefined,
        });
        expect(msg.s).toBe("x"); // the path always wins
        encodeMessage(route.method.input, msg);
        accepted++;
      } catch (err) {
        if (!(err instanceof JsonMappingError || err instanceof PercentDecodeError)) {
          throw new Error(`seed 3 run ${run}: ?${query} threw ${(err as Error).stack}`);
        }
      }
    }
    expect(accepted).toBeGreaterThan(300); // the generator exercises the happy path too
  });
});
