/** docs/pricing.md stays true: its example policies parse and compile, and it documents every key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPolicy } from '../src/pricing/load.js';
import { KEYS } from '../src/pricing/keys.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/pricing.md', import.meta.url)), 'utf8');

test('every example policy in docs/pricing.md parses and compiles', () => {
  // Fenced blocks without a language are policies (the sentence templates aside).
  const blocks: string[] = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of doc.split('\n')) {
    if (line.startsWith('```')) {
      if (open) {
        if (open.lang === '') blocks.push(open.lines.join('\n'));
        open = undefined;
      } else open = { lang: line.slice(3).trim(), lines: [] };
    } else open?.lines.push(line);
  }
  const policies = blocks.filter((b) => !b.startsWith('When <'));
  assert.ok(policies.length >= 3);
  for (const b of policies) assert.doesNotThrow(() => loadPolicy(b), b);
});

test('docs/pricing.md documents every key of the vocabulary', () => {
  for (const k of KEYS) assert.ok(doc.includes(`\`${k.key}\``), k.key);
});
