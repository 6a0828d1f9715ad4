import { describe, expect, it } from "vitest";
import { bindVariables, Router } from "../../src/routing/router.js";
import { type PathTemplate, parseTemplate, TemplateError } from "../../src/routing/template.js";
import { rng } from "../helpers/random.js";

const RUNS = 2000;

/** Writes a parsed template back in canonical form (`{x}` becomes `{x=*}`). */
function serialize(t: PathTemplate): string {
  const parts: string[] = [];
  let i = 0;
  while (i < t.segments.length) {
    const v = t.variables.find((x) => x.start === i);
    const text = (j: number) => {
      const s = t.segments[j]!;
      return s.kind === "literal" ? s.value : s.kind === "wildcard" ? "*" : "**";
    };
    if (v) {
      const inner = [];
      for (let j = v.start; j < v.end; j++) inner.push(text(j));
      parts.push(`{${v.fieldPath.join(".")}=${inner.join("/")}}`);
      i = v.end;
    } else {
      parts.push(text(i));
      i++;
    }
  }
  return `/${parts.join("/")}${t.verb ? `:${t.verb}` : ""}`;
}

/** A random valid template and a concrete path it matches, with the variable values that path binds. */
function generate(r: ReturnType<typeof rng>): {
  template: string;
  path: string;
  values: Record<string, string>;
} {
  const n = 1 + r.int(5);
  const tparts: string[] = [];
  const pparts: string[] = [];
  const values: Record<string, string> = {};
  const word = () => r.pick(["a", "books", "v1", "x-y", "z_9", "caf~e", "A.B"]);
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    const kind = r.int(last ? 5 : 4);
    if (kind === 0 || kind === 1) {
      const w = word();
      tparts.push(w);
      pparts.push(w);
    } else if (kind === 2) {
      tparts.push("*");
      pparts.push(word());
    } else if (kind === 3) {
      const name = `f${i}`;
      const val = r.pick(["abc", "a%2Fb", "1", "caf%C3%A9", "a+b"]);
      tparts.push(r.chance(0.5) ? `{${name}}` : `{${name}=*}`);
      pparts.push(val);
      values[name] = decodeURIComponent(val);
    } else {
      const name = `deep${i}`;
      const segs = ["p", "q%2Fr", "s"].slice(0, 1 + r.int(3));
      tparts.push(`{${name}=**}`);
      pparts.push(...segs);
      values[name] = segs.join("/");
    }
  }
  const verb = r.chance(0.2) ? ":run" : "";
  return { template: `/${tparts.join("/")}${verb}`, path: `/${pparts.join("/")}${verb}`, values };
}

describe("path templates, property-based", () => {
  it("never fails with anything but a TemplateError on arbitrary input", () => {
    const r = rng(1);
    const alphabet = ["/", "{", "}", "*", "**", "=", ":", ".", "a", "b", "x", "_", "1", "%", "-"];
    for (let run = 0; run < RUNS; run++) {
      const src = Array.from({ length: r.int(16) }, () => r.pick(alphabet)).join("");
      try {
        parseTemplate(src);
      } catch (err) {
        if (!(err instanceof TemplateError))
          throw new Error(`seed 1 run ${run}: ${JSON.stringify(src)} threw ${err}`);
      }
    }
  });

  it("parses every generated template, round-trips its canonical form, and matches its concrete paths", () => {
    const r = rng(2);
    for (let run = 0; run < RUNS; run++) {
      const { template, path, values } = generate(r);
      const parsed = parseTemplate(template);
      expect(parseTemplate(serialize(parsed)), template).toEqual({ ...parsed, source: serialize(parsed) });
      const router = new Router<string>();
      router.add("GET", parsed, template);
      const match = router.find("GET", path);
      expect(match?.route, `${template} should match ${path}`).toBe(template);
      const bound = Object.fromEntries(
        bindVariables(match!.template, match!.segments).map((v) => [v.fieldPath.join("."), v.value]),
      );
      expect(bound, `${template} on ${path}`).toEqual(values);
    }
  });
});
