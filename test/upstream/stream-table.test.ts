import { describe, expect, it } from "vitest";
import { StreamTable } from "../../src/upstream/grpc/h2/stream-table.js";

// The table must behave like a Map for every pattern of ids a connection produces: a sliding window
// of calls, a call that outlives thousands of others (ring collisions), and bursts that make it grow.
function check(table: StreamTable<string>, model: Map<number, string>): void {
  expect(table.size).toBe(model.size);
  expect(table.values().sort()).toEqual([...model.values()].sort());
  for (const id of model.keys()) expect(table.get(id)).toBe(model.get(id));
}

describe("StreamTable", () => {
  it("behaves like a Map over a sliding window of calls", () => {
    const table = new StreamTable<string>();
    const model = new Map<number, string>();
    let next = 1;
    const live: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const id = next;
      next += 2;
      table.set(id, `s${id}`);
      model.set(id, `s${id}`);
      live.push(id);
      if (live.length > 40) {
        const gone = live.splice(i % 7 === 0 ? 0 : live.length >> 1, 1)[0]!;
        table.delete(gone);
        model.delete(gone);
        expect(table.get(gone)).toBeUndefined();
      }
    }
    check(table, model);
  });

  it("keeps a long-lived stream while its ring slot is reused by later ones", () => {
    const table = new StreamTable<string>();
    const model = new Map<number, string>();
    table.set(1, "slow");
    model.set(1, "slow");
    for (let id = 3; id < 20_000; id += 2) {
      table.set(id, `s${id}`);
      table.delete(id);
    }
    // Collides with stream 1 in a 64-slot ring: goes to the overflow, then comes back out.
    table.set(129, "collides");
    model.set(129, "collides");
    check(table, model);
    table.set(129, "replaced");
    model.set(129, "replaced");
    check(table, model);
    table.delete(129);
    model.delete(129);
    check(table, model);
    expect(table.get(129)).toBeUndefined();
    table.delete(1);
    model.delete(1);
    check(table, model);
    table.delete(1); // twice: no effect
    expect(table.size).toBe(0);
  });

  it("grows past its first size and finds every stream, overflow included", () => {
    const table = new StreamTable<string>();
    const model = new Map<number, string>();
    table.set(1, "old");
    model.set(1, "old");
    for (let id = 129; id < 129 + 2 * 1000; id += 2) {
      table.set(id, `s${id}`);
      model.set(id, `s${id}`);
    }
    check(table, model);
    for (let id = 129; id < 129 + 2 * 1000; id += 4) {
      table.delete(id);
      model.delete(id);
    }
    check(table, model);
    expect(table.get(0x7fffffff)).toBeUndefined();
    table.set(0x7fffffff, "last id");
    model.set(0x7fffffff, "last id");
    check(table, model);
  });
});
