// Where a node with its embedded database serves its control socket (http/control-socket.ts); apart
// so that the CLI finds it without loading the HTTP stack.
import { join } from 'node:path';

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'run', 'admin.sock');
}
