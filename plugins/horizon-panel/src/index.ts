/**
 * `@tally/horizon-panel`, node side: where the built UI bundle lives, so
 * billing-api can serve it (the CLI passes `uiDir()` to `createApp`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the built static UI (`dist/ui/`: index.html, app.js, styles.css).
 * Resolved from the package root, so it is the same from `src/` (tsx) and `dist/`.
 */
export function uiDir(): string {
  return fileURLToPath(new URL('../dist/ui/', import.meta.url)).replace(/\/$/, '');
}

/** True when the bundle has been built (`npm run build --workspace @tally/horizon-panel`). */
export function uiBuilt(): boolean {
  return existsSync(`${uiDir()}/index.html`) && existsSync(`${uiDir()}/app.js`);
}
