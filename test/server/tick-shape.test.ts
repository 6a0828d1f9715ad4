import { describe, expect, it } from "vitest";
import { keepTickShape } from "../../src/server/tick-shape.js";

// What keeps Node 20's nextTick fast (src/server/tick-shape.ts) is one of its queue entries kept alive:
// if a Node version stopped exposing the entry as the tick's resource, the workaround would hold the
// wrong object and do nothing; this says so.
describe("keepTickShape", () => {
  it("should keep one nextTick queue entry, once", async () => {
    const entry = await keepTickShape();
    expect(Object.keys(entry)).toEqual(["callback", "args"]);
    const symbols = Object.getOwnPropertySymbols(entry).map((s) => s.description);
    expect(symbols).toContain("async_id_symbol");
    expect(await keepTickShape()).toBe(entry);
  });
});
