// `npm run demo`: two pullmail nodes on this machine (a.test and b.test, embedded PGlite in a temporary
// directory), three people, and the pull-delivery story step by step, told through the SDK. Stops the
// nodes and removes the data at the end. Exit 0 when every step went as told, 1 otherwise.
// PULLMAIL_DEMO_LOG_LEVEL=info shows the nodes' own logs on stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wantsColor } from '../packages/client/src/cli/output.ts';
import { startDemoNodes, stopDemoNodes, type DemoNode } from './demo/nodes.ts';
import { createPrinter } from './demo/print.ts';
import { consentToken, createMailboxes, firstContact, retractBeforeFetch, straightThrough } from './demo/story.ts';

const started = Date.now();
const p = createPrinter((s) => process.stdout.write(s), wantsColor(process.stdout, process.env));
const baseDir = mkdtempSync(join(tmpdir(), 'pullmail-demo-'));
let nodes: DemoNode[] = [];
let ok = false;

async function cleanUp(): Promise<void> {
  await stopDemoNodes(nodes);
  nodes = [];
  rmSync(baseDir, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  p.blank();
  p.note('interrupted: stopping the nodes');
  cleanUp().finally(() => process.exit(130));
});

p.title('pullmail demo: the recipient pulls, the sender keeps the message');
try {
  p.step('Two nodes start on this machine');
  nodes = await startDemoNodes(['a.test', 'b.test'], baseDir, process.env.PULLMAIL_DEMO_LOG_LEVEL ?? 'silent');
  p.table(['DOMAIN', 'URL', 'DATA'], nodes.map((n) => [p.c.bold(n.domain), n.url, p.c.dim(`${n.dataDir} (PGlite)`)]));
  const people = await createMailboxes(p, nodes[0], nodes[1]);
  await firstContact(p, people);
  await straightThrough(p, people);
  await retractBeforeFetch(p, people);
  await consentToken(p, people);
  ok = true;
} catch (err) {
  p.fail(`the demo stopped: ${(err as Error).stack ?? err}`);
} finally {
  p.step('The nodes stop');
  await cleanUp();
  p.ok('both nodes stopped; the temporary data is removed');
}
p.blank();
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (ok) {
  p.info(p.c.bold(`Done in ${seconds} s.`) + ' Next: run your own node with "npm start" and drive it with the pullmail');
  p.info('command (README, "The pullmail command").');
} else {
  p.info(p.c.red(`The demo failed after ${seconds} s.`) + ' PULLMAIL_DEMO_LOG_LEVEL=debug npm run demo shows the nodes\' logs.');
}
process.exitCode = ok ? 0 : 1;
