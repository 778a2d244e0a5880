/**
 * A billing run in a child process, so a test can kill it (SIGKILL) halfway:
 * node --import tsx run-child.ts <database url> <start> <end> (batches of 5 accounts)
 */
import { createLogger, openDatabase } from '@tally/common';
import { runBilling } from '../src/invoices/run.js';

const [url, start, end] = process.argv.slice(2);
const db = openDatabase(url!, 2);
await runBilling({ db, log: createLogger('child', { level: 'error' }) }, 'child', { start: new Date(start!), end: new Date(end!) }, undefined, { batchSize: 5 });
await db.destroy();
