// `npm run bench:router`: route lookup with 1, 100 and 10,000 routes, same run. The segment trie walks one
// map lookup per path segment, so the cost should not grow with the number of routes.
import { Router } from "../dist/routing/router.js";
import { parseTemplate } from "../dist/routing/template.js";
import { compare, machine } from "./lib/measure.mjs";

function routerWith(n) {
  const r = new Router();
  for (let i = 0; i < n; i++) {
    r.add("GET", parseTemplate(`/v1/service${i}/items/{id}`), i);
    r.add("POST", parseTemplate(`/v1/service${i}/items/{id}:archive`), -i);
  }
  r.add("GET", parseTemplate("/v1/target/items/{id}"), "target");
  r.add("GET", parseTemplate("/v1/{name=shelves/*/books/**}"), "deep");
  return r;
}

const sizes = [1, 100, 10_000];
const routers = Object.fromEntries(sizes.map((n) => [n, routerWith(n)]));
for (const n of sizes)
  if (routers[n].find("GET", "/v1/target/items/42")?.route !== "target") throw new Error("lookup failed");

const literal = compare(
  Object.fromEntries(sizes.map((n) => [`${n} routes`, () => routers[n].find("GET", "/v1/target/items/42")])),
);
const deep = compare(
  Object.fromEntries(
    sizes.map((n) => [`${n} routes`, () => routers[n].find("GET", "/v1/shelves/1/books/a/b/c")]),
  ),
);
const m = machine();
console.log(`route lookup, ns/op (median of 5 interleaved rounds); ${m.cpu}, node ${m.node}\n`);
console.log("| routes | literal path ns | vs 1 route | ** path ns | vs 1 route |");
console.log("|---|---|---|---|---|");
for (const n of sizes) {
  const a = literal[`${n} routes`] * 1000;
  const b = deep[`${n} routes`] * 1000;
  console.log(
    `| ${n * 2 + 2} | ${a.toFixed(0)} | ${(a / (literal["1 routes"] * 1000)).toFixed(2)}x | ${b.toFixed(0)} | ${(b / (deep["1 routes"] * 1000)).toFixed(2)}x |`,
  );
}
