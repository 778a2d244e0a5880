#!/usr/bin/env node
// Bundles the browser UI (src/ui/main.ts + Chart.js) with esbuild into dist/ui/app.js
// and copies the static files next to it. Type checking is tsc's job (`tsc --build`).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(pkg, 'src', 'ui');
const out = join(pkg, 'dist', 'ui');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(src, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const f of ['index.html', 'styles.css']) copyFileSync(join(src, f), join(out, f));
console.log(`UI bundle written to ${out}`);
