export * from './errors.js';
export * from './log.js';
export * from './config.js';
export * from './db.js';
export * from './embedded-pg.js';
export * from './runtime.js';
export * from './bus/index.js';
