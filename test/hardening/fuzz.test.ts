import { describe, expect, it } from "vitest";
import { kitchenJson } from "../helpers/kitchen-gen.js";
import { rng } from "../helpers/random.js";
import { echoGateway, type RawAnswer, rawRequest } from "./inputs.js";

/**
 * Issue #20: random client input through a real gateway to a real gRPC backend. Every answer is a
 * 2xx, or a 4xx whose body is a well-formed google.rpc.Status; never a 5xx (client input is never the
 * gateway's or the backend's fault) and never a hang. Seeded and bounded: a failure names its seed
 * and case, and replays.
 */

const SEED = 20261130;
const CASES = 600;
const PARALLEL = 6;

const env = echoGateway();

type R = ReturnType<typeof rng>;
interface Case {
  method: string;
  path: string;
  body?: Buffer;
}

const FIELDS = [
  "s",
  "i32",
  "i64",
  "u32",
  "u64",
  "s32",
  "fl",
  "db",
  "b",
  "by",
  "color",
  "inner",
  "rs",
  "ri64",
  "rinner",
  "mss",
  "mi",
  "mb",
  "oa",
  "ob",
  "oc",
  "opt",
  "ts",
  "dur",
  "mask",
  "st",
  "val",
  "lv",
  "w64",
  "wstr",
  "wbool",
  "any",
  "empty",
  "json_named",
  "customName",
  "packedI32",
  "nul",
  "name",
  "n",
  "child",
  "@type",
  "value",
  "zz",
];
const TYPES = [
  "google.protobuf.Any",
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.FieldMask",
  "google.protobuf.Empty",
  "test.v1.Inner",
  "test.v1.Kitchen",
  "no.such.Type",
  "google.protobuf.Int64Value",
];
const SCALARS = [
  "0",
  "-0",
  "1",
  "-1",
  "1.5",
  "1e400",
  "-1e400",
  "1.89769e308",
  "4294967296",
  "9223372036854775808",
  "1e-400",
  "true",
  "false",
  "null",
  '""',
  '"x"',
  '"NaN"',
  '"Infinity"',
  '"1e400"',
  '"\\udca0"',
  '"\\ud83d\\ude00"',
  '"\\ud800x"',
  '"é😀"',
  '"AQID"',
  '"2024-01-01T00:00:00Z"',
  '"10000-01-01T00:00:00Z"',
  '"1.5s"',
  '"-1.5s"',
  '"a,bC"',
  '"a_b"',
  '"COLOR_RED"',
  '"9007199254740993"',
  '"\\u0000"',
];

/** Random JSON text (not a value: it may name a key twice or hold numbers JSON.parse overflows). */
function jsonText(r: R, depth: number): string {
  const roll = r.int(10);
  if (depth > 6 || roll < 4) return r.pick(SCALARS);
  if (roll < 6) return `[${Array.from({ length: r.int(4) }, () => jsonText(r, depth + 1)).join(",")}]`;
  if (roll === 6) {
    // an Any, sometimes nested
    const inner = r.chance(0.5) ? `,"value":${jsonText(r, depth + 1)}` : `,${member(r, depth)}`;
    return `{"@type":"type.googleapis.com/${r.pick(TYPES)}"${inner}}`;
  }
  return `{${Array.from({ length: r.int(5) }, () => member(r, depth)).join(",")}}`;
}

const member = (r: R, depth: number): string =>
  `${JSON.stringify(r.chance(0.9) ? r.pick(FIELDS) : `k${r.int(3)}`)}:${jsonText(r, depth + 1)}`;

/** Deep nesting of one kind, past the limit or near it. */
function deepText(r: R): string {
  const n = r.pick([99, 100, 101, 102, 3000]);
  switch (r.int(4)) {
    case 0:
      return `{"any":${'{"@type":"type.googleapis.com/google.protobuf.Any","value":'.repeat(n)}{}${"}".repeat(n)}}`;
    case 1:
      return `{"inner":${'{"child":'.repeat(n)}{}${"}".repeat(n)}}`;
    case 2:
      return `{"lv":${"[".repeat(n)}${"]".repeat(n)}}`;
    default:
      return `{"st":${'{"a":'.repeat(n)}1${"}".repeat(n)}}`;
  }
}

/** A valid Kitchen, then a few byte-level mutations. */
function mutated(r: R): Buffer {
  const bytes = [...Buffer.from(JSON.stringify(kitchenJson(r)))];
  const tokens = ["{", "}", "[", "]", '"', ":", ",", "\\", "\\u", "d8", "1e400", "null", '"s":1,'];
  for (let k = r.int(4); k > 0; k--) {
    const at = r.int(bytes.length + 1);
    switch (r.int(4)) {
      case 0:
        bytes.splice(at, 1);
        break;
      case 1:
        bytes.splice(at, 0, r.int(256));
        break;
      case 2:
        bytes.splice(at, 0, ...Buffer.from(r.pick(tokens)));
        break;
      default: // a key/value pair repeated
        bytes.splice(1, 0, ...Buffer.from('"s":"x",'));
    }
  }
  return Buffer.from(bytes);
}

const randomBytes = (r: R): Buffer =>
  Buffer.from(
    Array.from({ length: r.int(48) }, () =>
      r.chance(0.6) ? r.pick([...Buffer.from('{}[]":,\\u0d8 ')]) : r.int(256),
    ),
  );

const QUERY_KEYS = [
  "s",
  "i32",
  "i64",
  "db",
  "fl",
  "b",
  "by",
  "color",
  "rs",
  "inner.name",
  "inner.child.n",
  "oa",
  "ob",
  "oc.name",
  "oc.n",
  "ts",
  "dur",
  "mask",
  "w64",
  "wstr",
  "mss[k]",
  "mi[1]",
  "mb[true]",
  "customName",
  "json_named",
  "zz",
  "%zz",
  "%FF",
  "in%6Eer.name",
  "",
];
const QUERY_VALUES = [
  "",
  "0",
  "-1",
  "1e400",
  "x",
  "a+b",
  "%20",
  "%",
  "%2",
  "%zz",
  "%FF%FE",
  "%C0%AF",
  "%E2%82",
  "%ED%A0%80",
  "%F0%9F%98%80",
  "%C3%A9",
  "true",
  "COLOR_RED",
  "2024-01-01T00:00:00Z",
  "1.5s",
  "a,bC",
  "AQID",
  "NaN",
];
const SEGMENTS = ["x", "%C3%A9", "%FF", "%", "%2F", "a%2Fb", "%E2%82", "%ED%A0%80", "a:frob", "+"];

function randomCase(r: R): Case {
  const query = () =>
    Array.from({ length: r.int(5) }, () => `${r.pick(QUERY_KEYS)}=${r.pick(QUERY_VALUES)}`).join("&");
  switch (r.int(8)) {
    case 0:
      return { method: "POST", path: "/v1/echo", body: randomBytes(r) };
    case 1:
    case 2:
      return { method: "POST", path: "/v1/echo", body: Buffer.from(jsonText(r, 0)) };
    case 3:
      return {
        method: "POST",
        path: r.pick(["/v1/echo", "/v1/body/x", "/v1/echo/x/inner"]),
        body: mutated(r),
      };
    case 4:
      return { method: "POST", path: "/v1/echo", body: Buffer.from(deepText(r)) };
    case 5:
      return {
        method: "POST",
        path: r.pick(["/v1/body/x", "/v1/echo/x/inner"]),
        body: Buffer.from(jsonText(r, 0)),
      };
    default:
      return { method: "GET", path: `/v1/echo/${r.pick(SEGMENTS)}?${query()}` };
  }
}

const send = (c: Case): Promise<RawAnswer> => rawRequest(env.gw.url, c.method, c.path, c.body);

/** What is wrong with an answer, or undefined. */
function problem(a: RawAnswer): string | undefined {
  if (a.status >= 200 && a.status < 300) return undefined;
  if (a.status >= 500) return `a ${a.status} for client input`;
  if (a.status < 400) return `status ${a.status}`;
  if (!a.contentType?.startsWith("application/json"))
    return `a ${a.status} with content-type ${a.contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `a ${a.status} whose body is not JSON`;
  }
  const s = body as { code?: unknown; message?: unknown; details?: unknown };
  const wellFormed =
    typeof body === "object" &&
    body !== null &&
    Object.keys(body).sort().join() === "code,details,message" &&
    Number.isInteger(s.code) &&
    (s.code as number) > 0 &&
    (s.code as number) <= 16 &&
    typeof s.message === "string" &&
    Array.isArray(s.details);
  return wellFormed ? undefined : `a ${a.status} whose body is not a google.rpc.Status`;
}

describe(`fuzz: random client input through the gateway (${CASES} cases, seed ${SEED})`, () => {
  it("answers every request with a 2xx or a well-formed 4xx google.rpc.Status, never a 5xx", async () => {
    const r = rng(SEED);
    const cases = Array.from({ length: CASES }, () => randomCase(r));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < cases.length; i += PARALLEL) {
      const batch = cases.slice(i, i + PARALLEL);
      const answers = await Promise.all(batch.map(send));
      answers.forEach((a, j) => {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        const p = problem(a);
        const c = batch[j]!;
        if (p && failures.length < 10)
          failures.push(
            `case ${i + j}: ${p}: ${c.method} ${c.path} ${c.body ? JSON.stringify(c.body.toString("latin1")).slice(0, 300) : ""} -> ${a.text.slice(0, 300)}`,
          );
      });
    }
    expect(failures).toEqual([]);
    // The generator reaches both outcomes, so a gateway rejecting everything would not pass unnoticed.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(CASES / 20);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(CASES / 4);
  });
});
