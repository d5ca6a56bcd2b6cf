// The extension's state in one object (rust-analyzer's ctx.ts): the daemon, the sign-in, the
// status bar item and what it shows, and the selected models. Commands (commands.ts) get it
// instead of sharing variables captured in activate().

import * as vscode from 'vscode';
import { Auth } from './auth';
import { bundledServer } from './bundledServer';
import { ChatPanel } from './chat';
import { Daemon, type DaemonEvent } from './client';
import { describeError, errorData } from './errors';
import { completionsEnabled, inlineMiddleware } from './inline';
import { REQUESTS, type Selected } from './protocol';
import { onSettingsChange } from './settings';
import {
  answered,
  applyDaemonStatus,
  initialStatus,
  renderStatus,
  restarted,
  type StatusModel,
  withModel,
  withUsage,
} from './status';

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly auth: Auth;
  readonly daemon: Daemon;
  private readonly item: vscode.StatusBarItem;
  private status: StatusModel = { ...initialStatus(), completionsEnabled: completionsEnabled() };
  private selectedModels: Selected = { completion: null, chat: null };
  private usageAsked = 0;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('ardaemon', { log: true });
    this.auth = new Auth(extension.secrets);
    this.daemon = new Daemon({
      log: this.log,
      token: () => this.auth.token(),
      middleware: inlineMiddleware,
      bundledServer: () => bundledServer(extension, this.log),
    });
    this.item = vscode.window.createStatusBarItem('ardaemon.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'ardaemon';
    this.disposables.push(
      this.log,
      this.item,
      this.auth,
      this.daemon,
      this.daemon.onEvent((event) => this.onDaemonEvent(event)),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChange(e)),
    );
    this.update(this.status);
  }

  /** The models the daemon uses, as last heard from it. */
  get selected(): Selected {
    return this.selectedModels;
  }

  /** Change what the status bar knows and redraw it. */
  update(patch: Partial<StatusModel>): void {
    this.status = { ...this.status, ...patch };
    const view = renderStatus(this.status);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
    this.item.command = view.command;
    this.item.show();
  }

  setSelected(next: Selected): void {
    this.selectedModels = next;
    this.update(withModel(this.status, next.completion ?? this.status.model));
    ChatPanel.modelChanged();
  }

  async refreshSignedIn(): Promise<void> {
    this.update({ signedIn: (await this.auth.token()) !== undefined });
  }

  /** The selection as the daemon has it, for the status bar (no network: cache is fine). */
  async refreshSelection(): Promise<void> {
    try {
      const result = await this.daemon.request(REQUESTS.listModels, {});
      const { completion, chat } = result.selected;
      this.log.info(`models: completion ${completion ?? '(none)'}, chat ${chat ?? '(none)'}`);
      this.setSelected(result.selected);
    } catch (err) {
      this.log.warn(`listing models: ${describeError(err)}`);
      const kind = errorData(err).kind;
      this.update(
        applyDaemonStatus(this.status, { state: 'error', message: describeError(err), ...(kind ? { kind } : {}) }),
      );
    }
  }

  /** Today's usage for the tooltip; at most every 15 s (the ledger is read from disk). */
  async refreshUsage(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.usageAsked < 15_000) {
      return;
    }
    this.usageAsked = now;
    try {
      const usage = await this.daemon.request(REQUESTS.usage, { since: 'today' });
      this.update(withUsage(this.status, usage));
    } catch (err) {
      this.log.debug(`usage: ${describeError(err)}`);
    }
  }

  /** Where the daemon's token comes from, for the tooltip (the daemon knows; never the token). */
  async refreshToken(): Promise<void> {
    try {
      const result = await this.daemon.request(REQUESTS.status, {});
      this.update({ token: result.token });
    } catch (err) {
      this.log.warn(`daemon status: ${describeError(err)}`);
    }
  }

  private onDaemonEvent(event: DaemonEvent): void {
    switch (event.type) {
      case 'starting':
        this.update(restarted(this.status));
        return;
      case 'missing':
      case 'stopped':
        this.update({ phase: event.type });
        return;
      case 'running':
        this.update({ phase: 'running' });
        void this.refreshSelection();
        void this.refreshUsage(true);
        void this.refreshToken();
        return;
      case 'answered':
        this.update(answered(this.status, event));
        return;
      case 'status':
        this.update(applyDaemonStatus(this.status, event.status));
        if (event.status.state === 'idle') {
          void this.refreshUsage(event.status.kind === 'budget');
        }
        return;
    }
  }

  private async onConfigurationChange(e: vscode.ConfigurationChangeEvent): Promise<void> {
    const action = onSettingsChange((key) => e.affectsConfiguration(key));
    if (action === 'ignore') {
      return;
    }
    this.update({ completionsEnabled: completionsEnabled() });
    this.log.info('settings changed: telling the daemon');
    if (action === 'restart') {
      await this.daemon.restart();
      return;
    }
    await this.daemon.pushSettings();
    if (action === 'pushAndReselect') {
      await this.refreshSelection();
    }
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }
}
