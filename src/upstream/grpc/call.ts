import type { MessageInfo } from "../../codec/index.js";
import { Code } from "../../errors/code.js";
import { concealed } from "../../errors/conceal.js";
import type { MethodDescriptor } from "../../registry/registry.js";
import type { UpstreamResult } from "../call.js";
import type { UnaryTarget } from "../target.js";
import type { Channel } from "./channel.js";
import { responseHeaders } from "./metadata.js";
import { errorFromStatus } from "./status.js";
import { callUnary } from "./unary.js";

const EMPTY = Buffer.alloc(0);

/**
 * The target of a route bound to a unary gRPC method: `call.encoded` goes to `channel` as the method's
 * request, the answer comes back as the output message's bytes with the response metadata as
 * `Grpc-Metadata-*` / `Grpc-Trailer-*` headers; a non-OK status becomes the GatewayError the client sees.
 * `resolve` finds message types for the details of google.rpc.Status.
 */
export function grpcUnaryTarget(
  channel: Channel,
  method: MethodDescriptor,
  resolve: (fullName: string) => MessageInfo | undefined,
): UnaryTarget {
  const path = method.path;
  return {
    kind: "grpc-unary",
    protocol: "grpc",
    upstream: channel.address,
    shape: "unary",
    invoke(call, done) {
      call.notes.backend = channel.address;
      return callUnary(channel, path, call.encoded, call.metadata, call.timeoutMs, (result) => {
        if (result.status.code !== Code.OK) {
          const err = errorFromStatus(result.status, result.headers, resolve);
          done(result.status.local ? concealed(err, call.requestId) : err, undefined);
          return;
        }
        const answer: UpstreamResult = {
          httpStatus: 200,
          headers: responseHeaders(result.headers, result.status.metadata),
          message: result.message ?? EMPTY,
        };
        done(undefined, answer);
      });
    },
  };
}
