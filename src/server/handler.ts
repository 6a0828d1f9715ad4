import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../errors/code.js";
import { GatewayError } from "../errors/gateway-error.js";
import type { Route } from "../routing/route.js";
import { encodeRequest } from "../transcode/request.js";
import { renderResponse } from "../transcode/response.js";
import type { ChannelPool } from "../upstream/grpc/channels.js";
import { timeoutMs } from "../upstream/grpc/deadline.js";
import { requestMetadata, responseHeaders } from "../upstream/grpc/metadata.js";
import { errorFromStatus } from "../upstream/grpc/status.js";
import { callUnary } from "../upstream/grpc/unary.js";
import type { LoadedConfig } from "./load-table.js";

/**
 * The request's way through the gateway: match -> transcode -> call upstream -> render.
 * `current()` is read once per request, so a reload never changes a request halfway.
 */
export function makeHandler(current: () => LoadedConfig, channels: ChannelPool) {
  return async function handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const config = current();
    const url = req.raw.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const match = config.table.router.find(req.method, path);
    if (!match) throw noRoute(config, req.method, path);
    const route = match.route;
    const backend = config.backends.get(route.method.service) ?? config.backends.get("");
    if (!backend)
      throw new GatewayError(Code.UNAVAILABLE, `no backend is configured for ${route.method.service}`);

    const request = encodeRequest(route, {
      segments: match.segments,
      query: q === -1 ? "" : url.slice(q + 1),
      body: req.body as Buffer | undefined,
      contentType: req.headers["content-type"],
    });
    const metadata = requestMetadata(req.headers, req.raw.headersDistinct, req.socket.remoteAddress);
    const timeout = timeoutMs(req.headers["grpc-timeout"], route.settings.timeoutMs);
    const call = callUnary(channels.get(backend), route.method.path, request, metadata, timeout);
    const onClose = (): void => {
      if (!reply.raw.writableEnded) call.cancel(); // the client went away: stop the backend's work too
    };
    reply.raw.once("close", onClose);
    const result = await call.result;
    reply.raw.off("close", onClose);
    if (result.status.code !== Code.OK)
      throw errorFromStatus(result.status, result.headers, config.registry.findMessage);
    sendResult(
      reply,
      route,
      result.message ?? Buffer.alloc(0),
      responseHeaders(result.headers, result.status.metadata),
    );
  };
}

function sendResult(
  reply: FastifyReply,
  route: Route,
  message: Buffer,
  headers: Record<string, string[]>,
): void {
  const { contentType, body } = renderResponse(route, message);
  reply
    .code(200)
    .headers(headers)
    .type(contentType)
    .send(typeof body === "string" ? body : Buffer.from(body));
}

function noRoute(config: LoadedConfig, method: string, path: string): GatewayError {
  const allowed = config.table.router.allowedMethods(path);
  if (allowed.length > 0) {
    return new GatewayError(Code.UNIMPLEMENTED, `method ${method} is not allowed on ${path}`, {
      httpStatus: 405,
      headers: { allow: allowed.join(", ") },
    });
  }
  return new GatewayError(Code.NOT_FOUND, `no route for ${method} ${path}`);
}
