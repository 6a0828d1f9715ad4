import { describe, expect, it, vi } from "vitest";
import {
  type DeadlineList,
  type Expiring,
  MAX_TIMER_MS,
  startDeadline,
  stopDeadline,
} from "../../src/upstream/grpc/deadline-lists.js";

// Deadlines are shared timers: these check *which* calls expire and never before their time, not speed.
class Call implements Expiring {
  deadlineAt = 0;
  prevExpiring: Expiring | undefined;
  nextExpiring: Expiring | undefined;
  expiryList: DeadlineList | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  startedAt = performance.now();
  expiredAt: number | undefined;
  constructor(
    readonly name: string,
    private readonly onExpire: (c: Call) => void = () => undefined,
  ) {}
  expire(): void {
    expect(this.expiredAt).toBeUndefined(); // once
    this.expiredAt = performance.now();
    this.onExpire(this);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Starts a deadline past Node's timer range (~24.8 days) and watches for 50 ms: the call must not
 * expire, and its timers must not wake up every millisecond (what an overflowing setTimeout does).
 */
async function farDeadline(timeoutMs: number): Promise<void> {
  const spy = vi.spyOn(globalThis, "setTimeout");
  const call = new Call("far");
  try {
    startDeadline(call, timeoutMs);
    await sleep(50);
    const ours = spy.mock.calls.filter(([, delay]) => delay !== 50); // not sleep()'s own
    expect(call.expiredAt).toBeUndefined();
    expect(ours.length).toBeLessThanOrEqual(2);
    for (const [, delay] of ours) expect(delay).toBeLessThanOrEqual(MAX_TIMER_MS);
  } finally {
    stopDeadline(call);
    spy.mockRestore();
  }
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("deadline lists", () => {
  it("expires the calls that were not stopped, in order, never early", async () => {
    const expired: string[] = [];
    const calls = Array.from({ length: 6 }, (_, i) => new Call(`c${i}`, (c) => expired.push(c.name)));
    for (const c of calls) {
      startDeadline(c, 300); // long enough that a loaded machine's sleep(3) never lets c0 expire first
      await sleep(3);
    }
    stopDeadline(calls[0]!); // head
    stopDeadline(calls[3]!); // middle
    stopDeadline(calls[5]!); // tail
    stopDeadline(calls[5]!); // twice: no effect
    await expect.poll(() => expired.length, { timeout: 2000 }).toBe(3);
    expect(expired).toEqual(["c1", "c2", "c4"]);
    for (const c of [calls[1]!, calls[2]!, calls[4]!])
      expect(c.expiredAt! - c.startedAt).toBeGreaterThanOrEqual(299);
  });

  it("gives a call started while others expire its whole timeout", async () => {
    const late: Call[] = [];
    const first = new Call("first", () => {
      const c = new Call("late");
      late.push(c);
      startDeadline(c, 30);
    });
    startDeadline(first, 30);
    await expect.poll(() => late[0]?.expiredAt, { timeout: 2000 }).toBeDefined(); // not a fixed sleep: load
    expect(first.expiredAt).toBeDefined();
    expect(late[0]!.expiredAt! - late[0]!.startedAt).toBeGreaterThanOrEqual(29);
  });

  it("holds no timer once every call of a list is stopped", async () => {
    const before = timers();
    const calls = [new Call("a"), new Call("b")];
    for (const c of calls) startDeadline(c, 5_000);
    expect(timers()).toBe(before + 1); // one timer for the list, not one per call
    for (const c of calls) stopDeadline(c);
    expect(timers()).toBe(before);
  });

  it("keeps a deadline past 2^31-1 ms in a list without expiring it or spinning", async () => {
    await farDeadline(30 * 24 * 3_600_000); // 30 days
  });

  it("falls back to a timer per call past the number of lists, with the same behaviour", async () => {
    const expired: number[] = [];
    const calls = Array.from({ length: 80 }, (_, i) => {
      const c = new Call(`t${i}`, () => expired.push(i));
      startDeadline(c, 20 + i); // 80 distinct timeouts: the last ones get plain timers
      return c;
    });
    for (let i = 0; i < 80; i += 2) stopDeadline(calls[i]!);
    await sleep(150);
    expect(expired.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, k) => 2 * k + 1));
    for (const i of expired)
      expect(calls[i]!.expiredAt! - calls[i]!.startedAt).toBeGreaterThanOrEqual(19 + i);
  });

  it("keeps a deadline past 2^31-1 ms on a plain timer without expiring it or spinning", async () => {
    await farDeadline(99_999_999 * 3_600_000); // the lists are full by now: a plain timer
  });
});
