/**
 * The web page, served from memory by the chat server itself: `web/app.ts` and the
 * SDK are bundled with esbuild once per process (no build step for the user, nothing
 * fetched from another host), `web/style.css` is minified beside it, both under
 * content-hashed names that are cached for good, and `index.html` points at them
 * and is revalidated on every load. Every answer carries a strict
 * Content-Security-Policy: scripts, styles and images from this origin only, no
 * inline code, WebSocket connections to this host only.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { bundleSdk } from "./sdkBundle.js";

/** Answers the request and returns true when the path is one of the page's; returns false, untouched, otherwise. */
export type WebAssetHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface WebAssetsOptions {
  /** The folder with `index.html`, `app.ts`, `style.css` and `favicon.svg`. @default the repository's `web/` */
  webDir?: string;
}

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  cache: string;
}

const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

function typeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf("."));
  const type = TYPES[ext];
  if (!type) throw new Error(`webAssets: no content type known for ${path}`);
  return type;
}

function asset(body: Buffer, type: string, cache: string): Asset {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  // Compress text only when it pays; PNGs are compressed already.
  const gz = type.startsWith("image/png") || body.length < 512 ? null : gzipSync(body, { level: 9 });
  return { body, gzip: gz && gz.length < body.length ? gz : null, type, etag, cache };
}

/** Bundles and reads everything the page needs; the map's keys are URL paths. */
async function loadAssets(webDir: string): Promise<Map<string, Asset>> {
  const result = await build({
    entryPoints: [join(webDir, "app.ts"), join(webDir, "style.css")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    entryNames: "[name]-[hash]",
    outdir: join(webDir, "assets"),
    write: false,
    logLevel: "silent",
  });
  const assets = new Map<string, Asset>();
  const hashed = new Map<string, string>();
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    const urlPath = `/assets/${name}`;
    assets.set(urlPath, asset(Buffer.from(file.contents), typeOf(name), IMMUTABLE));
    const original = name.replace(/-[A-Z0-9]+\.(js|css)$/, ".$1");
    if (original !== name) hashed.set(`/${original}`, urlPath);
  }

  let html = await readFile(join(webDir, "index.html"), "utf8");
  for (const [plain, withHash] of hashed) {
    const quoted = `"${plain}"`;
    if (!html.includes(quoted)) throw new Error(`webAssets: index.html does not reference ${plain}`);
    html = html.replaceAll(quoted, `"${withHash}"`);
  }
  const page = asset(Buffer.from(html), TYPES[".html"]!, REVALIDATE);
  assets.set("/", page);
  assets.set("/index.html", page);
  assets.set("/favicon.svg", asset(await readFile(join(webDir, "favicon.svg")), TYPES[".svg"]!, "public, max-age=86400"));
  // The SDK for pages of one's own: a stable address, so revalidated rather than cached for good.
  assets.set("/chat-client.js", asset(Buffer.from(await bundleSdk()), TYPES[".js"]!, REVALIDATE));
  return assets;
}

const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The policy for one answer; WebSocket URLs are named outright because older browsers do not count ws: as 'self'. */
function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host !== undefined && HOST.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers["accept-encoding"];
  return typeof header === "string" && /\bgzip\b/.test(header);
}

function serve(req: IncomingMessage, res: ServerResponse, found: Asset | undefined): void {
  const headers: Record<string, string> = {
    "content-security-policy": contentSecurityPolicy(req.headers.host),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
  };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...headers, allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    res.end("method not allowed\n");
    return;
  }
  if (!found) {
    res.writeHead(404, { ...headers, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end("not found\n");
    return;
  }
  Object.assign(headers, { "content-type": found.type, "cache-control": found.cache, etag: found.etag, vary: "accept-encoding" });
  if (req.headers["if-none-match"] === found.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const body = found.gzip && acceptsGzip(req) ? found.gzip : found.body;
  if (body === found.gzip) headers["content-encoding"] = "gzip";
  headers["content-length"] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

const built = new Map<string, Promise<Map<string, Asset>>>();

/**
 * Builds the page (once per process and folder; later calls share the result) and
 * returns the request handler. Rejects when the page does not build, so that a broken
 * page stops the server at start-up rather than at the first visit.
 */
export async function createWebAssets(options: WebAssetsOptions = {}): Promise<WebAssetHandler> {
  const webDir = options.webDir ?? DEFAULT_WEB_DIR;
  let loading = built.get(webDir);
  if (!loading) {
    loading = loadAssets(webDir);
    built.set(webDir, loading);
    loading.catch(() => built.delete(webDir));
  }
  const assets = await loading;
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const found = assets.get(path);
    if (!found && !path.startsWith("/assets/")) return false;
    serve(req, res, found);
    return true;
  };
}
