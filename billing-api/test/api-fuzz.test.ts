/**
 * The API fuzz test (issue 16, "close the class"): generated from the served
 * OpenAPI document, every route × every field of its body and query (nested
 * fields and list items included) × malformed and extreme values (fuzz-gen.ts),
 * plus every path parameter, the whole body, and a method the path does not
 * serve. Asserted: never a 5xx; a refused field is a 400 naming exactly that
 * field (or a 413 naming body for a value larger than any body); a 405 carries
 * Allow; and the other projects' reads answer the same afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { AccessPolicy } from '../src/auth/policy.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';
import { mutations, queryMutations, valid, type Mutation, type S } from './fuzz-gen.js';

const NOW = new Date('2026-11-21T10:30:00Z');
let t: TestDb;
let api: RunningApi;
const log = memoryLogger();
const params: Record<string, string> = { id: 'fz-a', account_id: 'acct-fz', name: 'fuzzpol', resource_id: 'vm-fz', invoice_id: '' };

before(async () => {
  t = await freshDatabase('fuzz');
  await insertUsage(t.db, [
    { project: 'fz-a', resource: 'vm-fz', hour: '2026-10-03T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    { project: 'fz-a', resource: 'vm-fz', hour: '2026-11-03T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    { project: 'fz-b', resource: 'vm-other', hour: '2026-11-04T00:00:00Z', seconds: '1800', flavor: 'm1.large', vcpus: 4 },
  ]);
  // Rules that need an authenticated admin are opened to noauth's admin, so every route reaches its validation.
  const policy = new AccessPolicy({ 'billing:runs:create': 'rule:admin', 'billing:accounts:topup': 'rule:admin', 'billing:invoices:write': 'rule:admin' });
  api = await startApi({ db: t.db, log, clock: () => NOW, auth: 'noauth', policy }, { host: '127.0.0.1', port: 0 });
  const ok = async (method: string, path: string, body: unknown) => assert.ok((await send(method, path, body)).status < 300, path);
  await ok('POST', '/v1/accounts', { id: 'acct-fz', name: 'fuzz', currency: 'EUR', scheme: 'postpaid', projects: ['fz-a'] });
  await ok('POST', '/v1/pricing-policies', { name: 'fuzzpol', source: 'EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0200 (EUR)\n', effective_from: '2027-01-01T00:00:00Z' });
  await ok('POST', '/v1/billing-runs', { start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' });
  params['invoice_id'] = ((await t.db('invoices').where({ account_id: 'acct-fz' }).first('id')) as { id: string }).id;
});
after(async () => {
  await api?.close();
  await t?.drop();
});

async function send(method: string, path: string, body?: unknown, raw?: { text: string | Uint8Array; type: string }): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  let payload: string | Uint8Array | undefined;
  if (raw) [payload, headers['content-type']] = [raw.text, raw.type];
  else if (body !== undefined) [payload, headers['content-type']] = [JSON.stringify(body), 'application/json'];
  const res = await fetch(api.url + path, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch { /* CSV and the like */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

const reads = async () => ({
  list: (await send('GET', '/v1/projects')).body,
  other: (await send('GET', '/v1/projects/fz-b/charges')).body,
  forecast: (await send('GET', '/v1/projects/fz-b/forecast')).body,
});

// The projects routes name their path id project_id.
const paramField = (p: string) => (p === 'id' ? 'project_id' : p);

test('every route × every field × malformed values: never a 5xx, the field is named, other projects still answer', { timeout: 600_000 }, async () => {
  const doc = (await send('GET', '/v1/openapi.json')).body as { paths: Record<string, Record<string, S>> };
  const before = await reads();
  assert.equal(before.other.total, '0.0400');
  const failures: string[] = [];
  let cases = 0;
  const perRoute = new Map<string, number>();
  const expect = (label: string, r: { status: number; body: any }, field: string | string[], m?: Mutation) => {
    cases++;
    const route = label.split(' ').slice(0, 2).join(' ');
    perRoute.set(route, (perRoute.get(route) ?? 0) + 1);
    const fields = Array.isArray(field) ? field : [field];
    const named: unknown = r.body?.error?.field;
    if (r.status >= 500) failures.push(`${label}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    else if (m?.mayBeTooLarge && r.status === 413 && named === 'body') return;
    else if (r.status !== 400) failures.push(`${label}: expected 400, got ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    else if (!fields.some((f) => named === f || (typeof named === 'string' && named.startsWith(`${f}.`)))) failures.push(`${label}: the error names ${String(named)}, not ${fields.join(' or ')}`);
  };
  const served = new Set<string>();
  for (const [template, ops] of Object.entries(doc.paths)) {
    const path = template.replace(/\{([A-Za-z_]+)\}/g, (_, p: string) => encodeURIComponent(params[p] ?? p));
    for (const [method, op] of Object.entries(ops)) {
      const M = method.toUpperCase();
      served.add(`${M} ${template}`);
      const body = op['requestBody']?.content?.['application/json']?.schema as S | undefined;
      if (body) {
        for (const m of mutations(body)) expect(`${M} ${template} body ${m.field} ${m.what}`, await send(M, path, m.value), m.field, m);
        const base = valid(body);
        expect(`${M} ${template} body not JSON`, await send(M, path, undefined, { text: '{"a": ', type: 'application/json' }), 'body');
        expect(`${M} ${template} body a list`, await send(M, path, [base]), 'body');
        expect(`${M} ${template} body with NUL in a key`, await send(M, path, { ...(base as object), 'a\u0000': 1 }), ['a\u0000', 'a\\u0000']);
        expect(`${M} ${template} body not UTF-8`, await send(M, path, undefined, { text: Buffer.from('{"x": "\xff"}', 'latin1'), type: 'application/json' }), 'body');
        const form = await send(M, path, undefined, { text: 'a=1', type: 'application/x-www-form-urlencoded' });
        if (form.status !== 415 && !op['requestBody']?.content?.['application/yaml']) failures.push(`${M} ${template} form body: expected 415, got ${form.status}`);
      }
      for (const p of (op['parameters'] as S[] | undefined) ?? []) {
        if (p['in'] === 'query') {
          for (const m of queryMutations(p['name'] as string, p['schema'] as S)) {
            expect(`${M} ${template} ?${m.field} ${m.what}`, await send(M, `${path}?${encodeURIComponent(m.field)}=${encodeURIComponent(String(m.value))}`, body ? valid(body) : undefined), m.field, m);
          }
          continue;
        }
        const name = p['name'] as string;
        for (const bad of ['%00', 'a%00b', 'a'.repeat(65), 'a%20b', '%1B', '%C0%AF']) {
          const at = template.replace(/\{([A-Za-z_]+)\}/g, (_, q: string) => (q === name ? bad : encodeURIComponent(params[q] ?? q)));
          const r = await send(M, at, body ? valid(body) : undefined);
          cases++;
          if (r.status >= 500) failures.push(`${M} ${template} path ${name}=${bad}: ${r.status}`);
          else if (r.status !== 404 && !(r.status === 400 && (r.body?.error?.field === paramField(name) || r.body?.error?.field === name))) {
            failures.push(`${M} ${template} path ${name}=${bad}: expected 400 naming ${paramField(name)} or 404, got ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
          }
        }
      }
      expect(`${M} ${template} an unknown query parameter`, await send(M, `${path}${path.includes('?') ? '&' : '?'}zz_unknown=1`, body ? valid(body) : undefined), 'zz_unknown');
    }
    // A method the path does not serve (nor any other path matching it, as /{name} matches /validate): 405 with Allow listing those it does.
    const matches = (other: string) => new RegExp(`^${other.replace(/\{[A-Za-z_]+\}/g, '[^/]+')}$`).test(template);
    const unserved = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].find((x) => !Object.entries(doc.paths).some(([other, o]) => o[x.toLowerCase()] && matches(other)));
    if (unserved) {
      const r = await send(unserved, path);
      cases++;
      if (r.status !== 405 || !(r.headers.get('allow') ?? '').includes(Object.keys(ops)[0]!.toUpperCase())) failures.push(`${unserved} ${template}: expected 405 with Allow, got ${r.status} allow=${r.headers.get('allow')}`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases failed`);
  // The document lists every served route, and each body was fuzzed field by field.
  assert.equal(served.size, api.routes.length);
  assert.ok(cases >= 900, `only ${cases} cases`);
  for (const r of api.routes.filter((x) => x.body !== undefined)) assert.ok((perRoute.get(`${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`) ?? 0) >= 5, `${r.method} ${r.path}`);
  // Nothing of it touched another project: its reads answer the same.
  assert.deepEqual(await reads(), before);
  assert.ok(!log.lines.some((l) => l.level === 'error'), JSON.stringify(log.lines.filter((l) => l.level === 'error').slice(0, 3)));
});
