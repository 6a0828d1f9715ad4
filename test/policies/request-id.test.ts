import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { requestId } from "../../src/policies/request-id.js";

const req = (given?: string | string[]) =>
  ({ headers: given === undefined ? {} : { "x-request-id": given } }) as unknown as IncomingMessage;

describe("requestId (Fastify's genReqId)", () => {
  it.each([
    ["req-42", "req-42"],
    ["a.b_c:d-E9", "a.b_c:d-E9"],
    ["x".repeat(128), "x".repeat(128)],
  ])("keeps a sane client id %s", (given, kept) => {
    expect(requestId(req(given))).toBe(kept);
  });

  it.each([["x".repeat(129)], ["has space"], ["semi;colon"], [""], [["a", "b"]]])(
    "replaces an unusable client id %j with a fresh one",
    (given) => {
      expect(requestId(req(given))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    },
  );

  it("counts fresh ids up by one, carrying across hex digits, after one per-process prefix", () => {
    const ids = Array.from({ length: 5000 }, () => requestId(req()));
    const prefix = ids[0]!.slice(0, 24);
    const first = Number.parseInt(ids[0]!.slice(24), 16);
    ids.forEach((id, i) => {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(id.slice(0, 24)).toBe(prefix);
      expect(Number.parseInt(id.slice(24), 16)).toBe(first + i);
    });
    expect(new Set(ids).size).toBe(ids.length);
  });
});
