/**
 * Request schemas of the projects routes: query parameters and path ids are
 * checked here and rejected with a ValidationError naming the field.
 */
import { ValidationError } from '@tally/common';
import { object, oneOf, optional, text } from '../schema.js';

// Keystone project ids are 32 hex characters; other id schemes (LDAP, tests) are plain tokens.
const PROJECT_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

const TIME = (example: string) => text({ max: 40, example, description: 'YYYY-MM-DD (UTC midnight) or an ISO 8601 time with a zone' });

/** `?start&end`, each at most once; unknown parameters are rejected, so typos do not pass silently. */
export const PERIOD_QUERY = object({ start: optional(TIME('2026-11-01')), end: optional(TIME('2026-12-01')) }, { what: 'query parameter' });

/** `?group_by&start&end` of the usage route. */
export const USAGE_QUERY = object({
  group_by: optional(oneOf(['resource', 'flavor', 'day'] as const)), start: optional(TIME('2026-11-01')), end: optional(TIME('2026-12-01')),
}, { what: 'query parameter' });

/** A project id from the path. */
export function parseProjectId(raw: string): string {
  if (!PROJECT_ID_RE.test(raw)) throw new ValidationError('project_id', 'must be 1-64 letters, digits, dots, dashes or underscores');
  return raw;
}
