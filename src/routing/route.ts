import type { FieldInfo, JsonReadOptions, JsonWriteOptions } from "../codec/index.js";
import type { MethodDescriptor } from "../registry/registry.js";
import type { PathTemplate } from "./template.js";

/**
 * Per-route settings: defaults from the config, overridable per method. Policies and interceptors add
 * their own keys by declaration merging in their folders (`declare module ".../routing/route.js"`), so
 * routing holds none of their types.
 */
export interface RouteSettings {
  /** Default deadline of the upstream call, ms; 0 for none. A Grpc-Timeout header overrides it. */
  readonly timeoutMs: number;
  /** The longest Grpc-Timeout a client may ask for, ms (longer is cut to it); undefined: timeoutMs; 0: no cap. */
  readonly maxTimeoutMs?: number | undefined;
  /** What to do with query parameters that name no field: "ignore" (default) or "reject" (400). */
  readonly unknownQueryParameters: "ignore" | "reject";
  /** proto3 JSON options of this route's request and response. */
  readonly json: JsonSettings;
}

export interface JsonSettings {
  readonly emitUnpopulated: boolean;
  readonly useProtoNames: boolean;
  readonly enumsAsNumbers: boolean;
  readonly ignoreUnknownFields: boolean;
}

export type BodyBinding =
  | { readonly kind: "none" }
  | { readonly kind: "all" } // body: "*"
  | { readonly kind: "field"; readonly field: FieldInfo };

/** A compiled binding: what the router returns and the transcoder follows. */
export interface Route {
  readonly httpMethod: string;
  readonly template: PathTemplate;
  readonly method: MethodDescriptor;
  readonly body: BodyBinding;
  readonly responseBody: FieldInfo | undefined;
  /** For each template variable, the chain of fields it sets. */
  readonly pathFields: ReadonlyArray<readonly FieldInfo[]>;
  /** Field paths (proto names) bound by path or body: query parameters under them are not applied. */
  readonly boundPaths: ReadonlyArray<readonly string[]>;
  readonly settings: RouteSettings;
  /** Codec options derived from settings and the registry, built once. */
  readonly read: JsonReadOptions;
  readonly write: JsonWriteOptions;
  /** "pkg.Service.Method (file.proto)" plus the binding, for messages. */
  readonly origin: string;
}
