// The daemon as a child process: `ardaemon serve --stdio` through vscode-languageclient.
// Owns start, stop and restart; everything else talks to the daemon through `request`.

import * as os from 'node:os';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import {
  type CancellationToken,
  DidChangeConfigurationNotification,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
  State,
  type StaticFeature,
  TransportKind,
} from 'vscode-languageclient/node';
import type { Bundled } from './bundledServer';
import { type Level, parseDaemonLine } from './logs';
import { type ErrorData, METHODS, NOTIFICATIONS, type Status } from './protocol';
import type { ProgressType, RequestParam, RequestType } from 'vscode-jsonrpc';
import { CLIENT_EXPERIMENTAL, protocolMismatch } from './versionCheck';
import {
  daemonSettings,
  INSTALL_COMMAND,
  missingServerMessage,
  resolveServerPath,
  SECTION,
  serverEnv,
  LANGUAGE_MODEL_KEY,
  userLanguageValue,
  userValue,
  wrapSection,
} from './settings';

export type DaemonEvent =
  | { type: 'starting' }
  | { type: 'running' }
  | { type: 'missing'; message: string }
  | { type: 'stopped' }
  | { type: 'status'; status: Status }
  /** A chat or complete request answered (`fallbackFrom` set when the fallback chain did). */
  | { type: 'answered'; fallbackFrom?: string | undefined };

/** Requests whose result says who answered (`fallbackFrom`): the status bar's fallback notice follows them. */
const ANSWERS: ReadonlySet<string> = new Set([METHODS.chat, METHODS.complete]);

export interface DaemonOptions {
  log: vscode.LogOutputChannel;
  /** The signed-in token, or undefined (the daemon then uses its own stored one, if any). */
  token: () => Promise<string | undefined>;
  middleware: Middleware;
  /** The daemon bundled in the VSIX, installed on first use (bundledServer.ts). */
  bundledServer?: () => Promise<Bundled>;
}

/** Announces the protocol version the extension was built for (versionCheck.ts). */
const protocolVersionFeature: StaticFeature = {
  fillClientCapabilities: (capabilities) => {
    capabilities.experimental = { ...(capabilities.experimental as object | undefined), ...CLIENT_EXPERIMENTAL };
  },
  initialize: () => undefined,
  getState: () => ({ kind: 'static' }),
  clear: () => undefined,
};

export function currentSettings(): ReturnType<typeof daemonSettings> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const languageIds = config.inspect(LANGUAGE_MODEL_KEY)?.languageIds ?? [];
  const languageModels = Object.fromEntries(
    languageIds.map((languageId) => [
      languageId,
      userLanguageValue(vscode.workspace.getConfiguration(SECTION, { languageId }).inspect(LANGUAGE_MODEL_KEY)),
    ]),
  );
  return daemonSettings((key) => userValue(config.inspect(key)), languageModels);
}

export class Daemon implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly events = new vscode.EventEmitter<DaemonEvent>();
  readonly onEvent = this.events.event;
  private starting: Promise<LanguageClient | undefined> | undefined;

  constructor(private readonly opts: DaemonOptions) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Start the daemon unless it runs; resolves to undefined when it cannot start. */
  start(): Promise<LanguageClient | undefined> {
    if (this.client && this.client.state !== State.Stopped) {
      return Promise.resolve(this.client);
    }
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    const { log } = this.opts;
    this.events.fire({ type: 'starting' });
    const configured = vscode.workspace.getConfiguration(SECTION).get<string>('serverPath');
    // ardaemon.serverPath wins; else the daemon bundled in the VSIX; else one on PATH.
    const bundled = configured?.trim() ? undefined : await this.opts.bundledServer?.();
    const fromBundle = bundled && 'command' in bundled ? bundled.command : undefined;
    const command =
      fromBundle ??
      resolveServerPath({
        configured,
        env: process.env,
        home: os.homedir(),
        platform: process.platform,
      });
    if (!command) {
      const message = bundled && 'error' in bundled ? bundled.error : missingServerMessage(configured);
      log.error(message);
      this.events.fire({ type: 'missing', message });
      void this.offerInstall(message, bundled !== undefined);
      return undefined;
    }

    const serverOptions: ServerOptions = {
      command,
      args: ['serve'],
      transport: TransportKind.stdio,
      options: { env: serverEnv(process.env, await this.opts.token()) },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: log,
      initializationOptions: () => wrapSection(currentSettings()),
      middleware: this.opts.middleware,
      stdioOptions: {
        stdout: () => undefined,
        stderr: (input, channel) => {
          let previous: Level | undefined;
          readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', (line) => {
            const { level, text } = parseDaemonLine(line, previous);
            previous = level;
            channel[level](text);
          });
        },
      },
    };
    const client = new LanguageClient('ardaemon', 'ardaemon', serverOptions, clientOptions);
    client.registerFeature(protocolVersionFeature);
    client.onNotification(NOTIFICATIONS.didChangeStatus, (status) => {
      this.events.fire({ type: 'status', status });
    });
    client.onDidChangeState((change) => {
      if (change.newState === State.Running) {
        this.events.fire({ type: 'running' });
      } else if (change.newState === State.Stopped) {
        this.events.fire({ type: 'stopped' });
      }
    });
    this.client = client;
    log.info(`starting ${command} serve --stdio`);
    try {
      await client.start();
    } catch (err) {
      log.error(`the daemon did not start: ${err instanceof Error ? err.message : String(err)}`);
      this.events.fire({ type: 'stopped' });
      return undefined;
    }
    const mismatch = protocolMismatch(client.initializeResult, command, command === fromBundle);
    if (mismatch) {
      log.warn(mismatch);
      void vscode.window.showWarningMessage(mismatch);
    }
    return client;
  }

  private async offerInstall(message: string, bundled: boolean): Promise<void> {
    // With a bundled daemon the message says what to install (Python); no pipx advice then.
    const copy = bundled ? 'Show Log' : 'Copy Install Command';
    const settings = 'Open Settings';
    const choice = await vscode.window.showErrorMessage(message, copy, settings);
    if (choice === copy && bundled) {
      this.opts.log.show();
    } else if (choice === copy) {
      await vscode.env.clipboard.writeText(INSTALL_COMMAND);
    } else if (choice === settings) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'ardaemon.serverPath');
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.opts.log.warn(`stopping the daemon: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** A new process: picks up a new token (it travels in the environment) or server path. */
  async restart(): Promise<LanguageClient | undefined> {
    await this.stop();
    return this.start();
  }

  /** Push the `ardaemon` section; the daemon applies it without a restart. */
  async pushSettings(): Promise<void> {
    if (!this.running || !this.client) {
      return;
    }
    await this.client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: wrapSection(currentSettings()),
    });
  }

  /** One typed request (protocol.ts REQUESTS); starts the daemon when it is not running. */
  async request<P, R>(
    type: RequestType<P, R, ErrorData>,
    params: RequestParam<P>,
    token?: CancellationToken,
  ): Promise<R> {
    const client = await this.start();
    if (!client) {
      throw new Error('The ardaemon daemon is not running: see "ardaemon: Show Log".');
    }
    const result = await client.sendRequest(type, params, token);
    if (ANSWERS.has(type.method)) {
      this.events.fire({ type: 'answered', fallbackFrom: (result as { fallbackFrom?: string }).fallbackFrom });
    }
    return result;
  }

  /** Listen to `$/progress` for one token (chat streaming). */
  async onProgress<P>(
    type: ProgressType<P>,
    token: string | number,
    handler: (value: P) => void,
  ): Promise<vscode.Disposable> {
    const client = await this.start();
    if (!client) {
      return new vscode.Disposable(() => undefined);
    }
    return client.onProgress(type, token, handler);
  }

  dispose(): void {
    void this.stop();
    this.events.dispose();
  }
}
