#!/usr/bin/env node
// The `pullmail` executable (bin of @pullmail/client): runs the command line and exits with its code.
import { processIo } from './process-io.ts';
import { runCli } from './run.ts';

// `pullmail inbox | head` closes stdout early: that is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), processIo());
