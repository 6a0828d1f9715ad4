import { describe, expect, it } from "vitest";
import { Code } from "../../src/errors/code.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { rejection } from "../../src/errors/local-rejection.js";
import { type FailedAttempt, retryDelayMs } from "../../src/interceptors/retry/decide.js";
import { DEFAULT_RETRY } from "../../src/interceptors/retry/policy.js";

// The retry rules shared by unary calls and streams, as a table: whether a failed attempt is retried.

const base: FailedAttempt = {
  attempt: 1,
  policy: { ...DEFAULT_RETRY, initialBackoffMs: 10, maxBackoffMs: 10 },
  mayRepeat: true,
  deadline: 0,
  perTryBound: false,
};
const err = (code: Code, headers?: Record<string, string>) => new GatewayError(code, "x", { headers });

describe("retryDelayMs()", () => {
  it.each<[string, GatewayError, Partial<FailedAttempt>, "retry" | "final"]>([
    ["a retryable code", err(Code.UNAVAILABLE), {}, "retry"],
    ["a code not in the policy", err(Code.INTERNAL), {}, "final"],
    ["a per-try timeout", err(Code.DEADLINE_EXCEEDED), { perTryBound: true }, "retry"],
    ["the call's own deadline", err(Code.DEADLINE_EXCEEDED), {}, "final"],
    ["the attempts spent", err(Code.UNAVAILABLE), { attempt: 2 }, "final"],
    ["a refusal of the gateway's own", rejection("busy", "limit"), {}, "final"],
    ["a call that may not be repeated", err(Code.UNAVAILABLE), { mayRepeat: false }, "final"],
    [
      "a pushback of never",
      err(Code.UNAVAILABLE, { "grpc-trailer-grpc-retry-pushback-ms": "-1" }),
      {},
      "final",
    ],
    [
      "a wait past the deadline",
      err(Code.UNAVAILABLE, { "grpc-trailer-grpc-retry-pushback-ms": "5000" }),
      { deadline: Date.now() + 100 },
      "final",
    ],
  ])("%s: %s", (_name, e, facts, expected) => {
    const delay = retryDelayMs(e, { ...base, ...facts });
    expect(delay === undefined ? "final" : "retry").toBe(expected);
  });

  it("should wait the server's pushback, else a full-jitter backoff under the cap", () => {
    expect(retryDelayMs(err(Code.UNAVAILABLE, { "grpc-trailer-grpc-retry-pushback-ms": "250" }), base)).toBe(
      250,
    );
    for (let i = 0; i < 50; i++) {
      const d = retryDelayMs(err(Code.UNAVAILABLE), base)!;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(10);
    }
  });
});
