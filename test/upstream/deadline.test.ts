import { describe, expect, it } from "vitest";
import { Code } from "../../src/errors/code.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { grpcTimeout, timeoutMs } from "../../src/upstream/grpc/deadline.js";

describe("timeoutMs()", () => {
  // [header, route default ms, max ms (undefined = the default), expected ms]
  const table: Array<[string | undefined, number, number | undefined, number]> = [
    [undefined, 30_000, undefined, 30_000], // no header: the route's timeout
    [undefined, 0, undefined, 0], // ...which may be none
    ["100m", 30_000, undefined, 100],
    ["5S", 30_000, undefined, 5000],
    ["2M", 600_000, undefined, 120_000],
    ["1H", 0, undefined, 3_600_000], // a route without timeout caps nothing
    ["1500u", 30_000, undefined, 1.5],
    ["1n", 30_000, undefined, 0.000001], // tiny but not zero: a deadline, not an error
    ["99999999H", 30_000, undefined, 30_000], // capped by the route's timeout
    ["99999999H", 30_000, 60_000, 60_000], // ...or by the route's maximum
    ["31S", 30_000, 60_000, 31_000], // longer than the default, within the maximum
    ["99999999H", 30_000, 0, 99_999_999 * 3_600_000], // maximum 0: no cap
    ["99999999H", 0, undefined, 99_999_999 * 3_600_000],
    [" 7S ", 30_000, undefined, 7000],
  ];
  it.each(table)("header %j, default %i, max %j -> %d ms", (header, def, max, expected) => {
    expect(timeoutMs(header, def, max)).toBe(expected);
  });

  it("should take the first of repeated headers", () => {
    expect(timeoutMs(["2S", "9S"], 30_000)).toBe(2000);
  });

  it.each(["0S", "0n", "0u", "0m", "0M", "0H", "00000000S"])(
    "should throw DEADLINE_EXCEEDED for the zero timeout %j, whatever the route",
    (header) => {
      for (const [def, max] of [
        [30_000, undefined],
        [0, undefined],
        [30_000, 0],
      ] as const) {
        let thrown: unknown;
        try {
          timeoutMs(header, def, max);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(GatewayError);
        expect((thrown as GatewayError).code).toBe(Code.DEADLINE_EXCEEDED);
      }
    },
  );

  it.each(["", "S", "10", "123456789S", "1.5S", "10s", "-1S", "1 S"])(
    "should throw INVALID_ARGUMENT for %j",
    (header) => {
      expect(() => timeoutMs(header, 30_000)).toThrowError(
        expect.objectContaining({ code: Code.INVALID_ARGUMENT }),
      );
    },
  );
});

describe("grpcTimeout()", () => {
  const table: Array<[number, string]> = [
    [0.0005, "1u"],
    [0.25, "250u"],
    [1, "1m"],
    [1.2, "2m"],
    [99_999_999, "99999999m"],
    [100_000_000, "100000S"],
    [99_999_999 * 3_600_000, "99999999H"],
  ];
  it.each(table)("%d ms -> %s", (ms, text) => {
    expect(grpcTimeout(ms)).toBe(text);
  });
});
