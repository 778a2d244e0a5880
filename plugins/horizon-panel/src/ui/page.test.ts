import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { uiDir } from '../index.js';

const html = readFileSync(new URL('./index.html', import.meta.url), 'utf8');
const main = readFileSync(new URL('./main.ts', import.meta.url), 'utf8');

test('index.html loads the names the bundle script writes', () => {
  const bundle = readFileSync(new URL('../../scripts/bundle.mjs', import.meta.url), 'utf8');
  assert.match(html, /<script type="module" src="app\.js"><\/script>/);
  assert.match(html, /href="styles\.css"/);
  assert.match(bundle, /'app\.js'/);
  assert.match(bundle, /'index\.html', 'styles\.css'/);
});

test('every element id main.ts looks up exists in index.html', () => {
  const ids = [...main.matchAll(/byId(?:<[^>]+>)?\('([^']+)'\)/g)].map((m) => m[1]);
  assert.ok(ids.length >= 6);
  for (const id of ids) assert.match(html, new RegExp(`id="${id}"`), id);
});

test('uiDir is the absolute dist/ui folder of this package', () => {
  const dir = uiDir();
  assert.ok(dir.startsWith('/'));
  assert.ok(dir.endsWith('/plugins/horizon-panel/dist/ui'), dir);
});
