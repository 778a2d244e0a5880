import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { uiDir } from '../index.js';

const html = readFileSync(new URL('./index.html', import.meta.url), 'utf8');
const horizon = readFileSync(new URL('../../tally_dashboard/templates/tally_dashboard/_app.html', import.meta.url), 'utf8');
const main = readFileSync(new URL('./main.ts', import.meta.url), 'utf8');
const bundle = readFileSync(new URL('../../scripts/bundle.mjs', import.meta.url), 'utf8');

test('index.html loads the names the bundle script writes', () => {
  assert.match(html, /<script type="module" src="app\.js"><\/script>/);
  assert.match(html, /href="styles\.css"/);
  assert.match(html, /href="page\.css"/);
  assert.match(bundle, /'app\.js'/);
  assert.match(bundle, /'index\.html', 'page\.css', 'styles\.css'/);
});

test('the Horizon template loads the files the bundle script copies into the plugin', () => {
  assert.match(horizon, /<script type="module" src="\{% static 'tally_dashboard\/app\.js' %\}"><\/script>/);
  assert.match(horizon, /href="\{% static 'tally_dashboard\/styles\.css' %\}"/);
  assert.match(bundle, /'tally_dashboard', 'static', 'tally_dashboard'/);
});

test('every element id main.ts looks up exists in both pages', () => {
  const ids = [...main.matchAll(/byId(?:<[^>]+>)?\('([^']+)'\)/g)].map((m) => m[1]);
  assert.ok(ids.length >= 7);
  for (const id of ids) {
    assert.match(html, new RegExp(`id="${id}"`), `index.html: ${id}`);
    assert.match(horizon, new RegExp(`id="${id}"`), `_app.html: ${id}`);
  }
});

test('both pages give the bundle its configuration attributes', () => {
  for (const page of [html, horizon]) for (const attr of ['data-api-base', 'data-mode']) assert.match(page, new RegExp(attr));
  assert.match(horizon, /data-project-id=/);
});

test('uiDir is the absolute dist/ui folder of this package', () => {
  const dir = uiDir();
  assert.ok(dir.startsWith('/'));
  assert.ok(dir.endsWith('/plugins/horizon-panel/dist/ui'), dir);
});
