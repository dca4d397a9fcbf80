/** Swagger UI served offline from swagger-ui-dist: the page at /docs and its assets under /docs/. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DOCS_ASSET_PREFIX, SERVER_ROUTES } from "../../contract/server-routes.ts";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const cache = new Map<string, Buffer>();

function distDir(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

/** An asset by file name, or undefined when it is not one we serve. */
export function docsAsset(name: string): { contentType: string; body: Buffer } | undefined {
  const contentType = ASSETS[name];
  if (!contentType) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = readFileSync(join(distDir(), name));
    cache.set(name, body);
  }
  return { contentType, body };
}

export function docsPage(title: string): string {
  const safe = title.replace(/[<>&"]/g, "");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${safe} — API docs</title>
<link rel="stylesheet" href="${DOCS_ASSET_PREFIX}swagger-ui.css">
<link rel="icon" type="image/png" href="${DOCS_ASSET_PREFIX}favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_ASSET_PREFIX}swagger-ui-bundle.js"></script>
<script src="${DOCS_ASSET_PREFIX}swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: "${SERVER_ROUTES.openapi}", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });
</script>
</body>
</html>
`;
}
