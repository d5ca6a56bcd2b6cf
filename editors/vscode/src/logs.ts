// The daemon's stderr in the output channel at the level it was logged at, not all as errors
// (the language client's default). Pure; client.ts wires it.

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: { [name: string]: Level } = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

// ardaemon's format: "%(asctime)s %(levelname)s %(name)s: %(message)s".
const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$/;

/**
 * One stderr line: its level and its text without the daemon's timestamp (the channel adds
 * its own). A line in another shape (a traceback's continuation, a crash) keeps the level of
 * the line before it, or `error` when there is none.
 */
export function parseDaemonLine(line: string, previous: Level | undefined): { level: Level; text: string } {
  const match = LINE.exec(line);
  if (match) {
    return { level: LEVELS[match[1]!] ?? 'info', text: match[2]! };
  }
  return { level: previous ?? 'error', text: line };
}
