import type * as amqp from "amqplib";
import { messageToJson, typeUrlOf } from "../../codec/index.js";
import type { ProtoRegistry } from "../../registry/registry.js";
import type { Operation, OperationStore } from "./operations.js";
import { decodeReply, plainJson } from "./status.js";

/**
 * A worker's message on the results exchange (correlation_id = operation id): a progress report
 * (`x-progress: true`, any JSON, shown in the operation's metadata) or the result, decoded with the
 * output type of the method that started the operation and recorded as its `response` or `error`.
 * Unknown or expired operations are dropped (the message is acked, not requeued forever).
 */
export async function recordResult(
  m: amqp.ConsumeMessage,
  operations: OperationStore,
  registry: ProtoRegistry,
): Promise<void> {
  const id = String(m.properties.correlationId ?? "");
  const op = id ? await operations.get(id) : undefined;
  if (!op) return;
  if (m.properties.headers?.["x-progress"] === true || m.properties.headers?.["x-progress"] === "true") {
    try {
      await operations.progress(id, JSON.parse(m.content.toString()));
    } catch {
      // not JSON: nothing to record
    }
    return;
  }
  const method = registry.methods.find((x) => x.fullName === op.metadata.value.method);
  if (!method) return;
  const resolve = registry.findMessage;
  let result: Pick<Operation, "error" | "response">;
  try {
    const decoded = decodeReply(method.output, m, resolve);
    result =
      "error" in decoded
        ? { error: decoded.error }
        : {
            response: {
              "@type": typeUrlOf(method.output.fullName),
              ...(messageToJson(method.output, decoded.msg, plainJson(resolve)) as object),
            },
          };
  } catch (err) {
    result = {
      error: {
        code: 13,
        message: `the worker's result could not be decoded: ${(err as Error).message}`,
        details: [],
      },
    };
  }
  await operations.complete(id, result);
}
