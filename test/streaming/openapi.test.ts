import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { buildOpenApi } from "../../src/openapi/document.js";
import { loadConfig } from "../../src/server/load-table.js";
import { STREAM_PROTOS } from "./server.js";

// Streaming routes in /openapi.json (issue #14 item 9).

type Op = {
  "x-protogate-stream"?: string;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content: Record<string, unknown> }>;
};

describe("OpenAPI of streaming routes", () => {
  const doc = buildOpenApi(loadConfig({ protos: [STREAM_PROTOS] }), { title: "t", version: "1" }) as {
    paths: Record<string, Record<string, Op>>;
  };

  it("should be a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
  });

  it("should describe each framing of a server stream and the request of a client stream", () => {
    const watch = doc.paths["/v1/watch/{name}"]!.get!;
    expect(watch["x-protogate-stream"]).toBe("server-stream");
    expect(Object.keys(watch.responses["200"]!.content)).toEqual([
      "application/x-ndjson",
      "text/event-stream",
      "application/json",
    ]);
    const upload = doc.paths["/v1/items:upload"]!.post!;
    expect(upload["x-protogate-stream"]).toBe("client-stream");
    expect(Object.keys(upload.requestBody!.content)).toEqual(["application/x-ndjson", "application/json"]);
    expect(Object.keys(upload.responses["200"]!.content)).toEqual(["application/json"]);
    expect(doc.paths["/v1/chat"]!.post!["x-protogate-stream"]).toBe("bidi-stream");
  });
});
