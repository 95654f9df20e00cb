#!/usr/bin/env node
// `pullmail-server`: checks the Node.js version in plain JavaScript, then runs the TypeScript CLI.
import { requireNode } from '@pullmail/client/node-version';

requireNode();
await import('../src/cli.ts');
