#!/usr/bin/env node
// `pullmail`: checks the Node.js version in plain JavaScript, then runs the TypeScript CLI.
import { requireNode } from './node-version.js';

requireNode();
await import('../src/cli/main.ts');
