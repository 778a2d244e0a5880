/**
 * Request parsing for the projects routes: query parameters and path ids are
 * checked here and rejected with a ValidationError naming the field.
 */
import { ValidationError } from '@tally/common';
import type { PeriodQuery } from '../../../charges.js';

const ALLOWED_QUERY = new Set(['start', 'end']);
// Keystone project ids are 32 hex characters; other id schemes (LDAP, tests) are plain tokens.
const PROJECT_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** `?start&end`, each at most once; unknown parameters are rejected, so typos do not pass silently. */
export function parsePeriodQuery(query: Record<string, string | string[] | undefined>): PeriodQuery {
  const out: PeriodQuery = {};
  for (const [key, value] of Object.entries(query)) {
    if (!ALLOWED_QUERY.has(key)) throw new ValidationError(key, 'unknown query parameter (allowed: start, end)');
    if (Array.isArray(value)) throw new ValidationError(key, 'may be given only once');
    if (value === undefined || value === '') throw new ValidationError(key, 'must not be empty');
    out[key as keyof PeriodQuery] = value;
  }
  return out;
}

/** A project id from the path. */
export function parseProjectId(raw: string): string {
  if (!PROJECT_ID_RE.test(raw)) throw new ValidationError('project_id', 'must be 1-64 letters, digits, dots, dashes or underscores');
  return raw;
}
