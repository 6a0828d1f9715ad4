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
  | "CONFIG_INVALID";

/** One thing wrong: where (file, file:line: key path, or method) and what. */
export interface Problem {
  readonly where: string;
  readonly detail: string;
}

export class LoadError extends Error {
  /** Every problem found (a schema check reports them all); the first is `where` + `detail`. */
  readonly problems: readonly Problem[];

  constructor(
    readonly code: LoadErrorCode,
    readonly where: string,
    readonly detail: string,
    options?: { cause?: unknown; problems?: readonly Problem[] },
  ) {
    const more = (options?.problems ?? []).slice(1);
    super(`${code}: ${where}: ${detail}${more.map((p) => `\n  ${p.where}: ${p.detail}`).join("")}`, options);
    this.name = "LoadError";
    this.problems = options?.problems ?? [{ where, detail }];
  }

  /**
   * One error for several problems (at least one): the message is the first in the usual shape
   * (`CODE: where: detail`), then one indented line per other problem.
   */
  static of(code: LoadErrorCode, problems: readonly Problem[], options?: { cause?: unknown }): LoadError {
    const first = problems[0]!;
    return new LoadError(code, first.where, first.detail, { ...options, problems });
  }
}
