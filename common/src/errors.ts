/**
 * Typed errors with stable codes. Consumers decide what to do by `transient`:
 * a transient error is retried or requeued, a permanent one is dead-lettered.
 */
export class TallyError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly transient: boolean;

  constructor(code: string, message: string, opts: { field?: string; transient?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = opts.field;
    this.transient = opts.transient ?? false;
  }
}

/** Bad input: names the field at fault. Never transient. */
export class ValidationError extends TallyError {
  constructor(field: string, message: string) {
    super('validation_failed', `${field}: ${message}`, { field });
  }
}

/** One problem found while loading configuration. */
export interface ConfigIssue {
  option: string;
  source: string;
  message: string;
}

/** Configuration is validated as a whole; this lists every bad key, not just the first. */
export class ConfigError extends TallyError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      'config_invalid',
      `invalid configuration:\n${issues.map((i) => `  - ${i.option} (${i.source}): ${i.message}`).join('\n')}`,
      { field: issues[0]?.option },
    );
    this.issues = issues;
  }
}

/** A dependency (broker, database, libvirt) is unavailable; retrying may help. */
export class UnavailableError extends TallyError {
  constructor(what: string, message: string, cause?: unknown) {
    super('unavailable', `${what}: ${message}`, { transient: true, cause });
  }
}
