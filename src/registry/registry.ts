import protobuf from "protobufjs";
import { fullNameOf, type MessageInfo, messageInfo } from "../codec/index.js";
import type { HttpRule } from "./http-option.js";

/** The services and messages of a loaded proto set, as the rest of the gateway sees them. */

export interface MethodDescriptor {
  /** "pkg.Service.Method" */
  readonly fullName: string;
  /** "pkg.Service" */
  readonly service: string;
  readonly name: string;
  /** The gRPC path: "/pkg.Service/Method". */
  readonly path: string;
  readonly input: MessageInfo;
  readonly output: MessageInfo;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
  /** The method's google.api.http option, if annotated. */
  readonly httpRule: HttpRule | undefined;
  readonly file: string;
  /** The method's comment in its .proto, for generated documentation. */
  readonly comment: string | undefined;
  /** The method's (protogate.v1.auth) option, if set. */
  readonly authOption: AuthOption | undefined;
  /** The method's (protogate.v1.amqp) option, if set (proto field names, as parsed). */
  readonly amqpOption: Record<string, unknown> | undefined;
}

/** (protogate.v1.auth) as parsed from the option text or a descriptor. */
export interface AuthOption {
  public?: boolean;
  any_scopes?: string | string[];
  all_scopes?: string | string[];
  claims?:
    | { name?: string; values?: string | string[] }
    | Array<{ name?: string; values?: string | string[] }>;
}

export class ProtoRegistry {
  readonly methods: readonly MethodDescriptor[];

  constructor(readonly root: protobuf.Root) {
    this.methods = collectServices(root).flatMap(describeService);
  }

  /** A message type by full name ("google.rpc.ErrorInfo"), for Any and error details. */
  readonly findMessage = (fullName: string): MessageInfo | undefined => {
    try {
      return messageInfo(this.root.lookupType(fullName));
    } catch {
      return undefined;
    }
  };
}

function collectServices(ns: protobuf.NamespaceBase): protobuf.Service[] {
  const out: protobuf.Service[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Service) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type)
      out.push(...collectServices(nested));
  }
  return out;
}

function describeService(service: protobuf.Service): MethodDescriptor[] {
  const serviceName = fullNameOf(service);
  return service.methodsArray.map((m) => {
    m.resolve();
    return {
      fullName: `${serviceName}.${m.name}`,
      service: serviceName,
      name: m.name,
      path: `/${serviceName}/${m.name}`,
      input: messageInfo(m.resolvedRequestType!),
      output: messageInfo(m.resolvedResponseType!),
      clientStreaming: m.requestStream === true,
      serverStreaming: m.responseStream === true,
      httpRule: option<HttpRule>(m, "(google.api.http)"),
      file: m.filename ?? service.filename ?? "",
      comment: m.comment ?? undefined,
      authOption: option<AuthOption>(m, "(protogate.v1.auth)"),
      amqpOption: option<Record<string, unknown>>(m, "(protogate.v1.amqp)"),
    };
  });
}

function option<T>(m: protobuf.Method, name: string): T | undefined {
  for (const opt of m.parsedOptions ?? []) {
    const value = (opt as Record<string, unknown>)[name];
    if (value) return value as T;
  }
  return undefined;
}
