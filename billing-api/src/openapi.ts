/**
 * The OpenAPI 3.1 document, built from the routes as declared (so it cannot
 * drift from what is served): every operation with its policy rule
 * (`x-policy-rule`), its body and query parameters as the JSON Schemas of the
 * very validators the route runs (api/v1/schema.ts), the Keystone token
 * security scheme and the one error shape.
 */
import type { RouteSpec } from './api/v1/route.js';

const ERROR_CODES: Record<string, string> = {
  '400': 'Invalid input (the field is named)', '401': 'Missing, invalid, expired or revoked token', '403': 'The policy does not allow it',
  '404': 'Not found', '405': 'Method not allowed (the Allow header lists the methods served)', '409': 'Conflicts with the current state (e.g. usage_invalid: the project\'s stored usage cannot be rated)',
  '413': 'Body too large', '415': 'Body is not JSON', '503': 'A dependency is unavailable',
};

/** Build the document. */
export function openApiDocument(routes: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const params: Record<string, unknown>[] = [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } }));
    const query = r.query as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {})) params.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema });
    const ok = r.status !== undefined ? String(r.status) : r.method === 'DELETE' ? '204' : r.method === 'GET' || r.path.endsWith('/validate') || r.path.endsWith('/simulate') || r.path.endsWith('/quotes') || r.path.endsWith('/finalize') || r.path.endsWith('/void') ? '200' : '201';
    const responses: Record<string, unknown> = { [ok]: { description: 'Success' } };
    for (const [code, description] of Object.entries(ERROR_CODES)) responses[code] = { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').split(/[/_.-]/).map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : '')).join('')}`,
      summary: r.summary,
      'x-policy-rule': r.rule,
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: r.bodyOptional !== true, content: Object.fromEntries((r.bodyTypes ?? ['application/json']).map((t) => [t, { schema: r.body }])) } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tally billing API', version, description: 'Billing for OpenStack: charges, pricing policies, accounts, ledger, invoices. Money is always a decimal string.' },
    servers: [{ url: '/' }],
    security: [{ keystone: [] }],
    components: {
      securitySchemes: { keystone: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'A Keystone v3 token scoped to a project' } },
      schemas: {
        Error: {
          type: 'object', required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message', 'request_id'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, request_id: { type: 'string' } } } },
        },
      },
    },
    paths,
  };
}
