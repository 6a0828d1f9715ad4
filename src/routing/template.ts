/**
 * Path templates of google.api.http rules, as specified in google/api/http.proto:
 *
 *   Template = "/" Segments [ Verb ] ;
 *   Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   FieldPath = IDENT { "." IDENT } ;
 *   Verb     = ":" LITERAL ;
 *
 * `{x}` means `{x=*}`; `**` may only be the last segment; variables do not nest.
 * "/" alone (no segments) is accepted as the root path, as most gateways do.
 */

export type Segment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "wildcard" } // `*`: exactly one segment
  | { readonly kind: "deep" }; // `**`: zero or more segments, always last

export interface Variable {
  /** Dotted field path split on ".", e.g. ["book", "name"]. */
  readonly fieldPath: readonly string[];
  /** Index of the first segment the variable covers. */
  readonly start: number;
  /** Index one past the last segment it covers. */
  readonly end: number;
}

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly Segment[];
  readonly variables: readonly Variable[];
  /** Custom verb without the colon, "" when absent. */
  readonly verb: string;
}

export class TemplateError extends Error {
  constructor(
    readonly template: string,
    readonly position: number,
    reason: string,
  ) {
    super(`invalid path template "${template}" at offset ${position}: ${reason}`);
    this.name = "TemplateError";
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A literal is any run of characters that are not template syntax.
const LITERAL_STOP = new Set(["/", "{", "}", "*", ":", "="]);

export function parseTemplate(source: string): PathTemplate {
  return new Parser(source).parse();
}

class Parser {
  private pos = 0;
  private readonly segments: Segment[] = [];
  private readonly variables: Variable[] = [];

  constructor(private readonly src: string) {}

  parse(): PathTemplate {
    if (this.src[0] !== "/") this.fail("a template must start with '/'");
    this.pos = 1;
    let verb = "";
    if (this.src.length > 1 && this.src[1] !== ":") {
      this.parseSegments(false);
    } else if (this.src.length > 1) {
      this.fail("a verb needs at least one segment before it");
    }
    if (this.peek() === ":") {
      this.pos++;
      verb = this.parseLiteral("verb");
    }
    if (this.pos < this.src.length) this.fail(`unexpected '${this.peek()}'`);
    this.checkDeepIsLast();
    this.checkDistinctVariables();
    return { source: this.src, segments: this.segments, variables: this.variables, verb };
  }

  private parseSegments(inVariable: boolean): void {
    for (;;) {
      this.parseSegment(inVariable);
      if (this.peek() !== "/") return;
      this.pos++;
    }
  }

  private parseSegment(inVariable: boolean): void {
    const c = this.peek();
    if (c === "{") {
      if (inVariable) this.fail("variables cannot be nested");
      this.parseVariable();
    } else if (c === "*") {
      this.pos++;
      if (this.peek() === "*") {
        this.pos++;
        this.segments.push({ kind: "deep" });
      } else {
        this.segments.push({ kind: "wildcard" });
      }
      this.expectSegmentEnd(inVariable);
    } else if (c === undefined || c === "/") {
      this.fail("empty segment");
    } else {
      this.segments.push({ kind: "literal", value: this.parseLiteral("segment") });
      this.expectSegmentEnd(inVariable);
    }
  }

  /** A segment must be whole: `/a{x}` and `/a*` are not templates. */
  private expectSegmentEnd(inVariable: boolean): void {
    const c = this.peek();
    if (c === undefined || c === "/") return;
    if (c === "}" && inVariable) return;
    if (c === ":" && !inVariable) return;
    if (c === ":") this.fail("a verb cannot appear inside a variable");
    if (c === "{") this.fail("a variable must be a whole segment");
    this.fail(`unexpected '${c}'`);
  }

  private parseVariable(): void {
    const open = this.pos;
    this.pos++; // "{"
    const fieldPath = this.parseFieldPath();
    const start = this.segments.length;
    if (this.peek() === "=") {
      this.pos++;
      if (this.peek() === "}") this.fail("a variable's pattern cannot be empty");
      this.parseSegments(true);
    } else {
      this.segments.push({ kind: "wildcard" });
    }
    if (this.peek() !== "}") {
      if (this.peek() === ":") this.fail("a verb cannot appear inside a variable");
      this.fail(`unterminated variable starting at offset ${open}`);
    }
    this.pos++;
    this.variables.push({ fieldPath, start, end: this.segments.length });
    this.expectSegmentEnd(false);
  }

  private parseFieldPath(): string[] {
    const begin = this.pos;
    while (this.pos < this.src.length && !"=}/{:".includes(this.src[this.pos]!)) this.pos++;
    const text = this.src.slice(begin, this.pos);
    const parts = text.split(".");
    for (const part of parts) {
      if (!IDENT.test(part)) {
        this.pos = begin;
        this.fail(`invalid field path "${text}"`);
      }
    }
    return parts;
  }

  private parseLiteral(what: string): string {
    const begin = this.pos;
    while (this.pos < this.src.length && !LITERAL_STOP.has(this.src[this.pos]!)) this.pos++;
    if (this.pos === begin) this.fail(`empty ${what}`);
    return this.src.slice(begin, this.pos);
  }

  private checkDeepIsLast(): void {
    const i = this.segments.findIndex((s) => s.kind === "deep");
    if (i !== -1 && i !== this.segments.length - 1) {
      this.fail("'**' must be the last segment of the template");
    }
  }

  private checkDistinctVariables(): void {
    const seen = new Set<string>();
    for (const v of this.variables) {
      const name = v.fieldPath.join(".");
      if (seen.has(name)) this.fail(`variable "${name}" is bound twice`);
      seen.add(name);
    }
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private fail(reason: string): never {
    throw new TemplateError(this.src, this.pos, reason);
  }
}
