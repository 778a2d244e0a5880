/**
 * Serves the built UI (index.html, JS, CSS) from one folder, for GET and HEAD only.
 * Paths are resolved inside the folder (after symlinks); anything else is a 404.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Context, Next } from 'koa';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The content type served for a file name. */
export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The absolute file for a URL path inside `root`, or undefined when the path
 * is malformed or leaves `root`. `/` and folder paths map to `index.html`.
 */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const rel = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const file = resolve(root, '.' + rel);
  return file.startsWith(root + sep) ? file : undefined;
}

/** Koa middleware serving `dir` at `/`; falls through (to a 404) when no file matches. */
export function serveStatic(dir: string) {
  const rootPromise = realpath(resolve(dir));
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const root = await rootPromise;
    const file = resolveInside(root, ctx.path);
    if (file === undefined) return next();
    let real: string;
    try {
      real = await realpath(file);
      if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) return next();
    } catch {
      return next();
    }
    const info = await stat(real);
    ctx.status = 200;
    ctx.type = contentTypeFor(real);
    ctx.length = info.size;
    ctx.lastModified = info.mtime;
    ctx.set('X-Content-Type-Options', 'nosniff');
    // index.html names the bundle, so it must be revalidated to pick up a new build.
    ctx.set('Cache-Control', 'no-cache');
    // HEAD: headers only; Koa ends the response without a body.
    if (ctx.method === 'GET') ctx.body = createReadStream(real);
  };
}
