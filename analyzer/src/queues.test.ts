import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldLabel } from './queues.js';

describe('fieldLabel', () => {
  it('keeps the fields the code names and folds paths a sender chose', () => {
    assert.equal(fieldLabel('counter_volume'), 'counter_volume');
    assert.equal(fieldLabel('resource_metadata.flavor.ram'), 'resource_metadata.flavor.ram');
    assert.equal(fieldLabel('resource_metadata.properties.x[3]'), 'resource_metadata');
    assert.equal(fieldLabel('extra\u0000key'), 'other');
    assert.equal(fieldLabel('oslo.message'), 'oslo.message');
    assert.equal(fieldLabel(undefined), 'none');
  });
});
