import { LoadError } from "../config/load-error.js";
import type { HttpRule } from "../registry/http-option.js";

export type { HttpRule } from "../registry/http-option.js";

/** One HTTP method + template of a rule; a rule with additional_bindings has several. */
export interface Binding {
  readonly httpMethod: string;
  readonly path: string;
  readonly body: string;
  readonly responseBody: string;
  /** 0 for the rule itself, n for its n-th additional binding. */
  readonly index: number;
}

const PATTERNS = ["get", "put", "post", "delete", "patch"] as const;

export function bindingsOf(rule: HttpRule, where: string): Binding[] {
  const extra =
    rule.additional_bindings === undefined ? [] : ([] as HttpRule[]).concat(rule.additional_bindings);
  const out = [bindingOf(rule, where, 0)];
  extra.forEach((b, i) => {
    // additional_bindings do not inherit the parent's body and may not nest (http.proto).
    if (b.additional_bindings !== undefined) {
      throw new LoadError("RULE_INVALID", where, "additional_bindings cannot contain additional_bindings");
    }
    out.push(bindingOf(b, where, i + 1));
  });
  return out;
}

function bindingOf(rule: HttpRule, where: string, index: number): Binding {
  const patterns: Array<[string, string]> = [];
  for (const p of PATTERNS) if (rule[p] !== undefined) patterns.push([p.toUpperCase(), String(rule[p])]);
  if (rule.custom !== undefined) {
    const kind = String(rule.custom.kind ?? "").toUpperCase();
    if (!/^[A-Z]+$/.test(kind))
      throw new LoadError(
        "RULE_INVALID",
        where,
        `custom pattern kind "${rule.custom.kind}" is not an HTTP method`,
      );
    patterns.push([kind, String(rule.custom.path ?? "")]);
  }
  const label = index === 0 ? "" : ` (additional binding #${index})`;
  if (patterns.length !== 1) {
    throw new LoadError(
      "RULE_INVALID",
      where,
      `a rule needs exactly one of get/put/post/delete/patch/custom${label}`,
    );
  }
  const [httpMethod, path] = patterns[0]!;
  return {
    httpMethod,
    path,
    body: String(rule.body ?? ""),
    responseBody: String(rule.response_body ?? ""),
    index,
  };
}
