// The Node.js version check both commands and the npm scripts run first, in plain JavaScript so that an
// older Node can read it: below 22.19 the TypeScript sources (type stripping) and undici@8 do not work,
// and the error would otherwise be ERR_UNKNOWN_FILE_EXTENSION ".ts". Run directly, it checks and exits.
import { fileURLToPath } from 'node:url';

/** The oldest Node.js release that runs pullmail; the root package.json engines field says the same. */
export const MINIMUM_NODE = '22.19';

/** Undefined when `version` (e.g. "22.23.3" or "v20.20.2") is new enough, else the one line to print. */
export function nodeVersionProblem(version) {
  const [major, minor] = String(version).replace(/^v/, '').split('.').map(Number);
  const [needMajor, needMinor] = MINIMUM_NODE.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `pullmail needs Node.js ${MINIMUM_NODE} or newer, this is ${version}: install Node 22 from https://nodejs.org (or \`npm install --prefix "$HOME/.node22" node@22\` and put $HOME/.node22/node_modules/.bin first on PATH)`;
}

/** Prints the problem to stderr and exits 1 when this Node.js is too old. */
export function requireNode() {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) requireNode();
