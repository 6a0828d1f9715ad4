import type { FastifyInstance, FastifyRequest } from "fastify";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { StreamDrain } from "../interceptors/stream-drain.js";
import { type Authenticator, missingToken, ownerOf } from "../policies/auth/authenticator.js";
import type { AmqpBrokers } from "../upstream/amqp/brokers.js";
import { type Operation, served } from "../upstream/amqp/operations.js";
import { sendError } from "./error-reply.js";
import { streamOperation, wantsOperationStream } from "./streaming/operation-stream.js";

/**
 * `GET /v1/operations/{id}`: the state of an AMQP command (google.longrunning.Operation JSON). An
 * operation started by an authenticated caller is shown to that caller only: anyone else gets the same
 * 404 as for an id that does not exist. One started anonymously is shown to whoever has its id.
 */
export function registerOperationRoutes(
  app: FastifyInstance,
  amqp: AmqpBrokers,
  /** The authenticator of the configuration in force (a reconfigure replaces it), if auth is on. */
  authenticator: () => Authenticator | undefined,
  /** The gateway's open streams, ended at shutdown: a streamed operation is one. */
  drain?: StreamDrain,
): void {
  app.get<{ Params: { id: string } }>("/v1/operations/:id", async (req, reply) => {
    const id = req.params.id;
    let op: Operation | undefined;
    try {
      op = /^[0-9a-f-]{36}$/.test(id) ? await amqp.operations.get(id) : undefined;
    } catch (err) {
      return sendError(
        reply,
        new GatewayError(Code.UNAVAILABLE, `the operation store is unavailable: ${(err as Error).message}`),
      );
    }
    if (op?.owner !== undefined && (await callerOf(req, authenticator())) !== op.owner) op = undefined;
    if (!op)
      return sendError(reply, new GatewayError(Code.NOT_FOUND, `operation ${id} not found (or expired)`));
    if (wantsOperationStream(req.headers.accept)) {
      reply.hijack(); // progress and the result as a stream (src/server/streaming/operation-stream.ts)
      streamOperation(
        req.raw,
        reply.raw,
        op,
        () => amqp.operations.get(id),
        reply.getHeaders(),
        undefined,
        drain,
      );
      return;
    }
    return reply.type("application/json").send(served(op));
  });
}

/** The caller's owner string; 401 without a token (an owned operation is never public). */
async function callerOf(
  req: FastifyRequest,
  authenticator: Authenticator | undefined,
): Promise<string | undefined> {
  const token = authenticator?.token(req.headers);
  if (!authenticator || !token) throw missingToken();
  return ownerOf(await authenticator.verify(token));
}
