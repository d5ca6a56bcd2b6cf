// Both sides announce the contract's version at `initialize`
// (`capabilities.experimental.ardaemon.protocolVersion`); when they differ, say which to update.
// No `vscode` import: unit-tested under plain Node.

import { PROTOCOL_VERSION } from './protocol';

/** What the extension adds to its client capabilities. */
export const CLIENT_EXPERIMENTAL = { ardaemon: { protocolVersion: PROTOCOL_VERSION } };

interface InitializeResultLike {
  capabilities?: { experimental?: unknown };
  serverInfo?: { name: string; version?: string };
}

/** The daemon's protocol version; 0 for a daemon from before versioning (it announces none). */
export function daemonProtocolVersion(result: InitializeResultLike | undefined): number {
  const experimental = result?.capabilities?.experimental as { ardaemon?: { protocolVersion?: unknown } } | undefined;
  const version = experimental?.ardaemon?.protocolVersion;
  return typeof version === 'number' && Number.isInteger(version) ? version : 0;
}

/** The message for the user when the daemon speaks another protocol version, else undefined. */
export function protocolMismatch(
  result: InitializeResultLike | undefined,
  command: string,
  bundled: boolean,
): string | undefined {
  const theirs = daemonProtocolVersion(result);
  if (theirs === PROTOCOL_VERSION) {
    return undefined;
  }
  const daemon = `the daemon ${command} (ardaemon ${result?.serverInfo?.version ?? 'of unknown version'})`;
  const head = `ardaemon: ${daemon} speaks protocol ${theirs}, this extension protocol ${PROTOCOL_VERSION}.`;
  if (theirs > PROTOCOL_VERSION) {
    return `${head} Update the ardaemon extension.`;
  }
  return bundled
    ? `${head} Reinstall the ardaemon extension (its bundled daemon is out of date).`
    : `${head} Update that daemon from the ardaemon checkout that matches this extension, or clear ardaemon.serverPath to use the daemon bundled with the extension.`;
}
