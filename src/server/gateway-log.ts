import { type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { type Logger, pino } from "pino";
import { logDestination } from "../observability/log-destination.js";

/** What the gateway logs with: pino's JSON lines (the shape Fastify's own logger wrote). */
export type GatewayLogger = Logger;

/**
 * The gateway's logger: pino JSON lines on stdout, one write per event-loop turn (log-destination.ts),
 * at `level` ("info" by default); `false` logs nothing. Throws pino's Error on an unknown level.
 * Fastify itself runs without a logger (`logger: false`, see GatewayLogController).
 */
export function gatewayLogger(level: string | false | undefined): GatewayLogger {
  return level === false ? pino({ enabled: false }) : pino({ level: level ?? "info" }, logDestination());
}

/**
 * Fastify's log lines, written to the gateway's logger. Fastify runs without a logger of its own: with
 * one, it adds and removes a 'finish' and an 'error' listener on every response and checks each
 * request's child logger, about 5.5k instructions per request (bench/README.md), for per-request
 * lines that the access log writes instead. Fastify's own faults and refusals still come here: a
 * response cut after its headers, a failed writeHead, a failed serializer, a request refused because
 * the server is closing. Its per-request lines (incoming, completed, not found, handled errors) stay
 * off, as they were (`disableRequestLogging`).
 */
export class GatewayLogController extends LogController {
  constructor(private readonly log: GatewayLogger) {
    super({ disableRequestLogging: true });
  }

  override streamError(error: Error, request: FastifyRequest): void {
    if ((error as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE") return; // the client left
    this.log.warn({ err: error, reqId: request.id }, "response terminated with an error after its headers");
  }

  override writeHeadError(error: Error, request: FastifyRequest): void {
    this.log.warn({ err: error, reqId: request.id }, `writing the response head failed: ${error.message}`);
  }

  override serializerError(
    error: Error,
    request: FastifyRequest,
    _reply: FastifyReply,
    metadata: { statusCode: number },
  ): void {
    this.log.error(
      { err: error, reqId: request.id, statusCode: metadata.statusCode },
      "the serializer for the status code failed",
    );
  }

  override serviceUnavailable(): void {
    this.log.info({ res: { statusCode: 503 } }, "request refused with 503: the server is closing");
  }
}
