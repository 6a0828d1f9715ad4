/**
 * The import graph's rules, checked in CI (`npm run lint:imports`): no cycles, and no layer imports a
 * layer above it. The layers, lowest first, follow the request's way (docs/request-flow.md):
 */
const LAYERS = [
  ["errors", "^src/errors/"],
  // the metric objects and the W3C trace-context parser: used from every layer, they import only prom-client
  ["telemetry", "^src/observability/(metrics|histogram|code-name|trace-context)\\.ts$"],
  ["codec", "^src/codec/"],
  ["config primitives", "^src/config/(load-error|validate|duration|yaml-file|schema-kit|schema-check)\\.ts$"],
  ["registry", "^src/registry/"],
  ["routing", "^src/routing/"],
  ["transcode", "^src/transcode/"],
  ["upstream", "^src/upstream/"],
  ["policies", "^src/policies/"],
  ["interceptors", "^src/interceptors/(?!index\\.ts$)"],
  ["config assembly", "^src/config/"],
  ["pipeline", "^src/(interceptors/index\\.ts$|observability/(?!(metrics|histogram|code-name|trace-context)\\.ts$))"],
  ["server", "^src/(server|openapi)/"],
  ["cli", "^src/(cli/|index\\.ts$)"],
];

const PRIMITIVES = LAYERS.find(([name]) => name === "config primitives")[1];

const upward = LAYERS.flatMap(([name, path], i) =>
  LAYERS.slice(i + 1).map(([above, abovePath]) => ({
    name: `no-upward-${name.replace(/ /g, "-")}-to-${above.replace(/ /g, "-")}`,
    comment: `${name} is below ${above}: it may not import it`,
    severity: "error",
    // the "config primitives" row is inside src/config/: keep it out of the "config assembly" match
    from: { path, ...(name === "config assembly" ? { pathNot: PRIMITIVES } : {}) },
    to: { path: abovePath, ...(above === "config assembly" ? { pathNot: PRIMITIVES } : {}) },
  })),
);

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "import cycles", from: {}, to: { circular: true } },
    ...upward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
