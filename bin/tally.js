#!/usr/bin/env node
// The `tally` command. The code lives in the @tally/cli workspace (built by `npm ci`).
import '@tally/cli/main';
