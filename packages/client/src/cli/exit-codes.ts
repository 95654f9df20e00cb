// Exit codes of the `pullmail` command: scripts may rely on them (README "The pullmail command").

export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** The node answered with a refusal or failure (not found, conflict, bad request, 5xx, …). */
  refused: 1,
  /** The command line or configuration is wrong (unknown flag, missing argument, no URL or token). */
  usage: 2,
  /** The node could not be reached: connection refused, DNS, timeout, TLS. */
  network: 3,
  /** The node did not accept the token (401) or does not allow this (403). */
  auth: 4,
  /** `status --wait` gave up before every delivery reached the awaited state. */
  timeout: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `exit codes:
  0  ok
  1  the node refused or failed the request (its error code is printed)
  2  usage or configuration error
  3  the node could not be reached (network, DNS, timeout, TLS)
  4  authentication: the node refused the token (401) or the action (403)
  5  status --wait did not see the awaited state (timed out, or another final state)`;

/** Raised for a wrong command line or missing configuration; exits with `usage`. */
export class UsageError extends Error {
  /** Help text to print after the message, if any. */
  readonly help?: string;
  constructor(message: string, help?: string) {
    super(message);
    this.name = 'UsageError';
    this.help = help;
  }
}

/** Raised when `status --wait` gives up; exits with `timeout`. */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}
