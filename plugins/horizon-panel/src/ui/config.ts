/**
 * Where the page runs, read from the root element's data attributes:
 * standalone from billing-api (`data-api-base=""`, every project) or inside
 * Horizon (`data-api-base="/api/tally"`, the Project panel pinned to the
 * logged-in user's project, the Admin panel showing every project).
 */

/** `all`: the projects table plus one project's detail; `project`: one project only; `scheduler`: Admin > Billing > Scheduler. */
export type PageMode = 'all' | 'project' | 'scheduler';

/** The page's configuration. */
export interface PageConfig {
  /** Prefix of every API path, without a trailing slash (`''`: the same server). */
  apiBase: string;
  mode: PageMode;
  /** The project shown in `project` mode (Horizon's current project). */
  projectId?: string;
  /** Its name, for the heading (Horizon knows it; billing-api has ids only). */
  projectName?: string;
  /** Show the scheduler below the charges (`data-scheduler="inline"`: the standalone page of embedded mode). */
  schedulerInline?: boolean;
}

/**
 * Check the root element's `data-*` attributes (a DOMStringMap or a plain
 * record). Throws, naming the attribute, rather than guess.
 */
export function readConfig(data: Record<string, string | undefined>): PageConfig {
  const apiBase = (data['apiBase'] ?? '').replace(/\/+$/, '');
  if (apiBase !== '' && !apiBase.startsWith('/') && !/^https?:\/\//.test(apiBase)) {
    throw new Error(`data-api-base must be empty, a path or an http(s) URL, got ${JSON.stringify(apiBase)}`);
  }
  const mode = data['mode'] ?? 'all';
  if (mode !== 'all' && mode !== 'project' && mode !== 'scheduler') throw new Error(`data-mode must be "all", "project" or "scheduler", got ${JSON.stringify(mode)}`);
  if (mode === 'scheduler') return { apiBase, mode };
  if (mode === 'project') {
    const projectId = data['projectId'] ?? '';
    if (projectId === '') throw new Error('data-project-id is required when data-mode is "project"');
    const projectName = data['projectName'] ?? '';
    return projectName === '' ? { apiBase, mode, projectId } : { apiBase, mode, projectId, projectName };
  }
  return data['scheduler'] === 'inline' ? { apiBase, mode, schedulerInline: true } : { apiBase, mode };
}
