/**
 * Where the golden Ceilometer vectors are: `$TALLY_CEILOMETER_VECTORS`, or a
 * `shared/vectors/ceilometer` folder beside the checkout (or above it), which
 * is where CI and developers have them. Used by tests and benchmarks.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function ceilometerVectorsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['TALLY_CEILOMETER_VECTORS'];
  if (fromEnv) return fromEnv;
  let dir = resolve(dirname(fileURLToPath(import.meta.url)));
  for (;;) {
    const candidate = join(dir, 'shared', 'vectors', 'ceilometer');
    if (existsSync(join(candidate, 'polling-agent-notifications.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Ceilometer golden vectors not found: put shared/ beside the checkout or set TALLY_CEILOMETER_VECTORS');
    dir = parent;
  }
}
