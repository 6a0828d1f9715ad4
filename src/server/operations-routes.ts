import type { FastifyInstance } from "fastify";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { AmqpUpstream } from "../upstream/amqp/upstream.js";
import { sendError } from "./error-reply.js";

/** `GET /v1/operations/{id}`: the state of an AMQP command (google.longrunning.Operation JSON). */
export function registerOperationRoutes(app: FastifyInstance, amqp: AmqpUpstream): void {
  app.get<{ Params: { id: string } }>("/v1/operations/:id", async (req, reply) => {
    let op: Awaited<ReturnType<typeof amqp.operations.get>>;
    try {
      op = /^[0-9a-f-]{36}$/.test(req.params.id) ? await amqp.operations.get(req.params.id) : undefined;
    } catch (err) {
      return sendError(
        reply,
        new GatewayError(Code.UNAVAILABLE, `the operation store is unavailable: ${(err as Error).message}`),
      );
    }
    if (!op)
      return sendError(
        reply,
        new GatewayError(Code.NOT_FOUND, `operation ${req.params.id} not found (or expired)`),
      );
    return reply.type("application/json").send(JSON.stringify(op));
  });
}
