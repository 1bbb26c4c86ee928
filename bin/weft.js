#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `weft` works from a checkout without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main();
