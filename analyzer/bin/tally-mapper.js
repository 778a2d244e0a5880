#!/usr/bin/env node
// Hadoop Streaming mapper of the Tally usage job (raw sample lines on stdin). Needs `npm run build`.
import { mapperMain } from '../dist/streaming-main.js';

process.exitCode = await mapperMain();
