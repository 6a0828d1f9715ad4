import { describe, expect, it } from "vitest";
import { Code } from "../../src/errors/code.js";
import { GatewayError } from "../../src/errors/gateway-error.js";
import { Admission } from "../../src/upstream/admission.js";

/** Runs `admit` and resolves with what its callback got, and whether it was called synchronously. */
function admitted(a: Admission): Promise<{ refusal: GatewayError | undefined; sync: boolean }> {
  return new Promise((resolve) => {
    let returned = false;
    a.admit((refusal) => resolve({ refusal, sync: !returned }));
    returned = true;
  });
}

describe("Admission", () => {
  it("runs its check once, however often it is asked, never calling back synchronously", async () => {
    let runs = 0;
    const a = new Admission(async () => {
      runs++;
    });
    expect(a.pending).toBe(true);
    const [first, second] = await Promise.all([admitted(a), admitted(a)]);
    expect([first, second]).toEqual([
      { refusal: undefined, sync: false },
      { refusal: undefined, sync: false },
    ]);
    expect([runs, a.pending]).toEqual([1, false]);
  });

  it("gives its refusal to every caller", async () => {
    const no = new GatewayError(Code.RESOURCE_EXHAUSTED, "rate limit exceeded");
    const a = new Admission(() => Promise.reject(no));
    expect((await admitted(a)).refusal).toBe(no);
    expect((await admitted(a)).refusal).toBe(no);
  });

  it("never runs its check once waived (the answer came from the cache), and admits after", async () => {
    let runs = 0;
    const a = new Admission(async () => {
      runs++;
      throw new GatewayError(Code.RESOURCE_EXHAUSTED, "would refuse");
    });
    a.waive();
    expect(a.pending).toBe(false);
    expect((await admitted(a)).refusal).toBeUndefined();
    expect(runs).toBe(0);
  });
});
