/**
 * A configuration or proto problem found at load time. `code` is stable (users grep for it);
 * `where` names the file, line or method; the message says what to change.
 */
export type LoadErrorCode =
  | "PROTO_NOT_FOUND"
  | "PROTO_SYNTAX"
  | "PROTO_RESOLVE"
  | "RULE_TEMPLATE"
  | "RULE_FIELD"
  | "RULE_INVALID"
  | "ROUTE_CONFLICT"
  | "CONFIG_INVALID"
  // Composite routes (src/compose/check.ts): a field path, a dependency cycle, an output key.
  | "COMPOSE_FIELD"
  | "COMPOSE_CYCLE"
  | "COMPOSE_OUTPUT";

export class LoadError extends Error {
  constructor(
    readonly code: LoadErrorCode,
    readonly where: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${where}: ${detail}`, options);
    this.name = "LoadError";
  }
}
