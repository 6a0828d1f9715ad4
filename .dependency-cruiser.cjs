/**
 * The import graph's rules, checked in CI (`npm run lint:imports`): no cycles, and no layer imports a
 * layer above it. The layers, lowest first, follow the request's way (docs/request-flow.md):
 */
const LAYERS = [
  ["errors", "^src/errors/"],
  ["codec", "^src/codec/"],
  ["config primitives", "^src/config/(load-error|validate|duration|yaml-file|schema-kit|schema-check)\\.ts$"],
  ["registry", "^src/registry/"],
  ["routing", "^src/routing/"],
  ["transcode", "^src/transcode/"],
  ["upstream", "^src/upstream/"],
  ["policies", "^src/policies/"],
  ["interceptors", "^src/interceptors/(?!index\\.ts$)"],
  ["config assembly", "^src/config/"],
  ["pipeline", "^src/(interceptors/index\\.ts$|observability/)"],
  ["server", "^src/(server|openapi)/"],
  ["cli", "^src/(cli/|index\\.ts$)"],
];

const upward = LAYERS.flatMap(([name, path], i) =>
  LAYERS.slice(i + 1).map(([above, abovePath]) => ({
    name: `no-upward-${name.replace(/ /g, "-")}-to-${above.replace(/ /g, "-")}`,
    comment: `${name} is below ${above}: it may not import it`,
    severity: "error",
    // the "config primitives" row is inside src/config/: keep it out of the "config assembly" match
    from: { path, ...(name === "config assembly" ? { pathNot: LAYERS[2][1] } : {}) },
    to: { path: abovePath, ...(above === "config assembly" ? { pathNot: LAYERS[2][1] } : {}) },
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
