import { it } from 'node:test';
import assert from 'node:assert/strict';
import { topicMatches } from './types.js';

it('matches AMQP topic patterns', () => {
  const cases: [string, string, boolean][] = [
    ['notifications.sample', 'notifications.sample', true],
    ['notifications.sample', 'metering.sample', false],
    ['*.sample', 'metering.sample', true],
    ['*.sample', 'a.b.sample', false],
    ['#', 'a.b.c', true],
    ['#.sample', 'sample', true],
    ['notifications.#', 'notifications', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.*.z', 'a.z', false],
  ];
  for (const [p, k, want] of cases) assert.equal(topicMatches(p, k), want, `${p} vs ${k}`);
});
