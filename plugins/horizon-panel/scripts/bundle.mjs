#!/usr/bin/env node
// Bundles the browser UI (src/ui/main.ts + Chart.js) with esbuild into dist/ui/app.js
// and copies the static files next to it (billing-api serves that folder in embedded mode);
// then copies app.js and styles.css into the Django plugin's static files
// (tally_dashboard/static/tally_dashboard/), where Horizon's collectstatic finds them.
// Type checking is tsc's job (`tsc --build`).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(pkg, 'src', 'ui');
const out = join(pkg, 'dist', 'ui');
const horizonStatic = join(pkg, 'tally_dashboard', 'static', 'tally_dashboard');
mkdirSync(out, { recursive: true });
mkdirSync(horizonStatic, { recursive: true });

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
for (const f of ['index.html', 'page.css', 'styles.css']) copyFileSync(join(src, f), join(out, f));
for (const f of ['app.js', 'app.js.map', 'app.js.LEGAL.txt', 'styles.css']) copyFileSync(join(out, f), join(horizonStatic, f));
console.log(`UI bundle written to ${out} and ${horizonStatic}`);
