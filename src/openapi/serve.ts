import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { LoadedConfig } from "../server/load-table.js";
import { buildOpenApi, type DocumentOptions } from "./document.js";

/**
 * `GET /openapi.json`: the OpenAPI document of the routes in force, built once per loaded configuration
 * (so a reload regenerates it). `GET /docs/`: Swagger UI, served from the swagger-ui-dist package (no
 * CDN), pointed at /openapi.json.
 */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>API docs</title>
  <link rel="stylesheet" href="swagger-ui.css">
  <link rel="icon" type="image/png" href="favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "../openapi.json", dom_id: "#swagger-ui", deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });
  </script>
</body>
</html>
`;

export function registerOpenApiRoutes(
  app: FastifyInstance,
  config: () => LoadedConfig,
  info: DocumentOptions,
): void {
  const documents = new WeakMap<LoadedConfig, string>();
  app.get("/openapi.json", async (_req, reply) => {
    const current = config();
    let doc = documents.get(current);
    if (!doc) {
      doc = JSON.stringify(buildOpenApi(current, info));
      documents.set(current, doc);
    }
    reply.type("application/json").send(doc);
  });
  app.get("/docs", async (_req, reply) => reply.redirect("/docs/"));
  app.get("/docs/", async (_req, reply) => reply.type("text/html; charset=utf-8").send(PAGE));
  for (const [file, type] of Object.entries(ASSETS)) {
    app.get(`/docs/${file}`, async (_req, reply) =>
      reply.type(type).header("cache-control", "public, max-age=86400").send(asset(file)),
    );
  }
}

const assets = new Map<string, Buffer>();
/** Read on first use (the bundle is 1.5 MB); a fixed list, so nothing from a request reaches the file system. */
function asset(file: string): Buffer {
  let body = assets.get(file);
  if (!body) {
    body = readFileSync(join(swaggerUiDir(), file));
    assets.set(file, body);
  }
  return body;
}

/**
 * Where swagger-ui-dist's files are. Its main module loads the whole 1.5 MB UI bundle into the gateway
 * (tens of MiB of RSS, slower start); resolving its package.json finds the folder without loading it.
 */
function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}
