import { concealed } from "../errors/conceal.js";
import { rejection } from "../errors/local-rejection.js";
import type { MethodDescriptor, ProtoRegistry } from "../registry/registry.js";
import type { AmqpBrokers } from "./amqp/brokers.js";
import { amqpTarget } from "./amqp/call.js";
import type { AmqpBinding } from "./amqp/config.js";
import type { BackendChannels } from "./grpc/backends.js";
import { grpcUnaryTarget } from "./grpc/call.js";
import { grpcStreamTarget } from "./grpc/stream-target.js";
import type { StreamTarget, UnaryTarget } from "./target.js";

/** The live upstream connections targets are made on: gRPC channels by address, AMQP brokers. */
export interface Upstreams {
  readonly channels: BackendChannels;
  readonly amqp: AmqpBrokers | undefined;
}

/** Where a method's calls go, as the loaded configuration says. */
export interface MethodUpstream {
  /** Backend address by full service name; "" is the default backend. */
  readonly backends: ReadonlyMap<string, string>;
  /** Methods bound to RabbitMQ, by full method name. */
  readonly amqp: ReadonlyMap<string, AmqpBinding>;
}

/**
 * The target of a method, chosen once when routes are compiled: its AMQP binding if it has one, else
 * its service's gRPC backend (or the default backend). A method with neither gets a target that answers
 * 503 UNAVAILABLE, so the rest of the table still serves. Streaming methods get a gRPC stream target
 * (they cannot be bound to AMQP: load-table.ts refuses that).
 */
export function resolveTarget(
  method: MethodDescriptor,
  where: MethodUpstream,
  upstreams: Upstreams,
  registry: ProtoRegistry,
): UnaryTarget | StreamTarget {
  const binding = where.amqp.get(method.fullName);
  if (binding) {
    return upstreams.amqp
      ? amqpTarget(upstreams.amqp, binding)
      : unavailable(
          `${method.fullName} is bound to AMQP, but no broker is configured (amqp: in the config file)`,
        );
  }
  const backend = where.backends.get(method.service) ?? where.backends.get("");
  const streaming = method.clientStreaming || method.serverStreaming;
  if (!backend) {
    const message = `no backend is configured for ${method.service}`;
    return streaming ? unavailableStream(method, message) : unavailable(message);
  }
  if (streaming) return grpcStreamTarget(upstreams.channels.get(backend), method, registry.findMessage);
  return grpcUnaryTarget(upstreams.channels.get(backend), method, registry.findMessage);
}

/** A target that fails every call with UNAVAILABLE and `message` (logged by the server, not shown). */
function unavailable(message: string): UnaryTarget {
  return {
    kind: "unavailable",
    protocol: "none",
    upstream: "",
    shape: "unary",
    invoke(call, done) {
      queueMicrotask(() => done(concealed(rejection(message, message), call.requestId), undefined));
      return noop;
    },
  };
}

/** The streaming twin of unavailable(): every call ends with UNAVAILABLE before any message. */
function unavailableStream(method: MethodDescriptor, message: string): StreamTarget {
  return {
    kind: "unavailable",
    protocol: "none",
    upstream: "",
    shape: "stream",
    clientStreaming: method.clientStreaming,
    serverStreaming: method.serverStreaming,
    open(_call, sink) {
      queueMicrotask(() => sink.onEnd(rejection(message, message), {}));
      return { write: () => true, end: noop, cancel: noop, pause: noop, resume: noop };
    },
  };
}

function noop(): void {}
