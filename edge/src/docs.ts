import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ServerResponse } from "node:http";

// The browser assets come from the swagger-ui-dist package as installed; only these are served.
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};
const assetDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Inventory Platform API</title>
  <link rel="icon" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="api"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>SwaggerUIBundle({ url: "/openapi.json", dom_id: "#api", deepLinking: true, tryItOutEnabled: true, persistAuthorization: true });</script>
</body>
</html>`;

/**
 * The API reference page over /openapi.json at /docs, and its assets. Returns false for other paths.
 * "Authorize" takes an access token or an API key (the document's securitySchemes); it is kept
 * across reloads (persistAuthorization, in the browser's local storage) so trying calls is not
 * a sign-in per page load.
 */
export async function serveDocs(path: string, res: ServerResponse): Promise<boolean> {
  if (path === "/docs" || path === "/docs/") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(PAGE);
    return true;
  }
  const name = path.startsWith("/docs/") ? path.slice("/docs/".length) : "";
  const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!type) return false;
  const body = await readFile(join(assetDir, name));
  res.writeHead(200, { "content-type": type, "content-length": body.length, "cache-control": "public, max-age=86400" });
  res.end(body);
  return true;
}
