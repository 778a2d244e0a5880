#!/usr/bin/env node
// Hadoop Streaming reducer of the Tally usage job (key-sorted mapper lines on stdin). Needs `npm run build`.
import { reducerMain } from '../dist/streaming-main.js';

process.exitCode = await reducerMain(process.argv.slice(2));
