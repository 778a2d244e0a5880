import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TallyError, UnavailableError, ValidationError } from '@tally/common';
import { describeError, NotFoundError } from './http-errors.js';
import { NoPolicyError } from './policy.js';

test('errors map to status, code and a safe message', () => {
  assert.deepEqual(describeError(new ValidationError('start', 'bad')), { status: 400, code: 'validation_failed', message: 'start: bad', field: 'start', expose: true });
  assert.equal(describeError(new NotFoundError('GET /x')).status, 404);
  assert.equal(describeError(new NoPolicyError(new Date(0))).status, 503);
  assert.equal(describeError(new UnavailableError('database', 'unreachable')).message, 'database: unreachable; retry later');
});

test('5xx bodies never carry internal messages', () => {
  for (const err of [new Error('password=hunter2'), new TallyError('boom', 'secret detail'), 'a string', undefined]) {
    const d = describeError(err);
    assert.equal(d.status, 500);
    assert.equal(d.code, 'internal_error');
    assert.doesNotMatch(d.message, /hunter2|secret detail/);
  }
});

test('exposed http client errors keep their status; unexposed ones become 500', () => {
  const e405 = Object.assign(new Error('Method Not Allowed'), { status: 405, expose: true });
  assert.deepEqual(describeError(e405), { status: 405, code: 'method_not_allowed', message: 'Method Not Allowed', expose: true });
  const hidden = Object.assign(new Error('db said x'), { status: 418, expose: false });
  assert.equal(describeError(hidden).status, 500);
});
