// `npm run bench:codec`: protogate's codec against protobufjs and @bufbuild/protobuf, same run, same
// messages. Two directions: JSON text -> protobuf binary (a request), binary -> JSON text (a response).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  create,
  createFileRegistry,
  fromBinary,
  fromJsonString,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import protobuf from "protobufjs";
import { decodeMessage, encodeMessage, messageFromJson, messageToJson } from "../dist/codec/index.js";
import { loadProtos } from "../dist/registry/load-protos.js";
import { ProtoRegistry } from "../dist/registry/registry.js";
import { bufImage } from "./lib/buf-image.mjs";
import { compare, machine } from "./lib/measure.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const protoDir = `${here}protos`;

// --- the messages (proto3 JSON) ---
const item = (i) => ({
  sku: `SKU-${1000 + i}`,
  title: `Item number ${i}`,
  quantity: (i % 5) + 1,
  unitPrice: { currencyCode: "EUR", units: String(10 + i), nanos: 500000000 },
  tags: ["new", "sale"],
});
const order = (items) => ({
  id: "ord-20261122-0001",
  customerId: "9007199254740993",
  status: "ORDER_STATUS_PLACED",
  items: Array.from({ length: items }, (_, i) => item(i)),
  labels: { channel: "web", campaign: "black-friday", region: "eu-west" },
  createdAt: "2026-11-22T10:15:30.123Z",
  total: { currencyCode: "EUR", units: "1234", nanos: 560000000 },
  shipping: { line1: "1 Rue de Rivoli", city: "Paris", country: "FR", postalCode: "75001" },
  weightKg: 3.25,
});
const MESSAGES = {
  small: ["shop.v1.Small", { id: "abc-123", count: 42, active: true }],
  typical: ["shop.v1.Order", order(5)],
  large: ["shop.v1.Order", order(1000)],
};

// --- protogate ---
const pg = new ProtoRegistry(loadProtos([protoDir]));
const read = { ignoreUnknownFields: false, resolve: pg.findMessage };
const write = {
  emitUnpopulated: false,
  useProtoNames: false,
  enumsAsNumbers: false,
  resolve: pg.findMessage,
};

// --- @bufbuild/protobuf ---
const bb = createFileRegistry(fromBinary(FileDescriptorSetSchema, bufImage(protoDir)));

// --- protobufjs, used the usual way (camelCase names, fromObject/toObject) ---
const pjRoot = new protobuf.Root();
pjRoot.resolvePath = (_origin, target) => (target.startsWith("google/") ? target : `${protoDir}/${target}`);
pjRoot.loadSync("shop/v1/order.proto");
// protobufjs cannot read a Timestamp string (not the proto3 JSON mapping): give it its own object form.
const forProtobufjs = (json) =>
  json.createdAt
    ? {
        ...json,
        createdAt: { seconds: String(Math.floor(Date.parse(json.createdAt) / 1000)), nanos: 123000000 },
      }
    : json;
const TO_OBJECT = { longs: String, enums: String, bytes: String };

const results = [];
for (const [label, [name, json]] of Object.entries(MESSAGES)) {
  const text = JSON.stringify(json);
  const pjText = JSON.stringify(forProtobufjs(json));
  const info = pg.findMessage(name);
  const schema = bb.getMessage(name);
  const pjType = pjRoot.lookupType(name);
  const bytes = encodeMessage(info, messageFromJson(info, JSON.parse(text), "", read));
  // all three must agree on the bytes before their speed means anything
  const bbBytes = toBinary(schema, fromJsonString(schema, text, { registry: bb }));
  if (Buffer.compare(Buffer.from(bytes), Buffer.from(bbBytes)) !== 0)
    throw new Error(`${label}: protogate and @bufbuild/protobuf disagree`);
  void create;

  const encode = compare({
    protogate: () => encodeMessage(info, messageFromJson(info, JSON.parse(text), "", read)),
    protobufjs: () => pjType.encode(pjType.fromObject(JSON.parse(pjText))).finish(),
    "@bufbuild/protobuf": () => toBinary(schema, fromJsonString(schema, text, { registry: bb })),
  });
  const decode = compare({
    protogate: () => JSON.stringify(messageToJson(info, decodeMessage(info, bytes), write)),
    protobufjs: () => JSON.stringify(pjType.toObject(pjType.decode(bytes), TO_OBJECT)),
    "@bufbuild/protobuf": () => toJsonString(schema, fromBinary(schema, bytes), { registry: bb }),
  });
  results.push({ message: label, bytes: bytes.length, encode, decode });
}

const fmt = (us) => (us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0));
const m = machine();
console.log(
  `codec benchmark, us/op (median of 5 interleaved rounds), lower is better; ${m.cpu}, ${m.cores} cores, node ${m.node}\n`,
);
console.log(
  "| message | bytes | direction | protogate | protobufjs | @bufbuild/protobuf | protogate vs protobufjs | protogate vs @bufbuild |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of results) {
  for (const [dir, t] of [
    ["JSON -> binary", r.encode],
    ["binary -> JSON", r.decode],
  ]) {
    const x = (other) => `${(t[other] / t.protogate).toFixed(2)}x`;
    console.log(
      `| ${r.message} | ${r.bytes} | ${dir} | ${fmt(t.protogate)} | ${fmt(t.protobufjs)} | ${fmt(t["@bufbuild/protobuf"])} | ${x("protobufjs")} | ${x("@bufbuild/protobuf")} |`,
    );
  }
}
console.log("\n(ratios above 1.00x: protogate is that many times faster)");
mkdirSync(`${here}results`, { recursive: true });
const file = `${here}results/codec-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, JSON.stringify({ machine: m, results }, null, 2));
console.log(`results: ${file}`);
