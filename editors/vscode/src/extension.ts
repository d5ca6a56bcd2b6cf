// Activation: one daemon, one status bar item, the commands. Features live in their modules.

import * as vscode from 'vscode';
import { Auth } from './auth';
import { bundledServer } from './bundledServer';
import { ChatPanel } from './chat';
import { Daemon } from './client';
import { describeError, errorData } from './errors';
import { completionsEnabled, inlineMiddleware, toggleCompletions } from './inline';
import { pickModel } from './modelPicker';
import type { Target } from './models';
import { type ListModelsResult, METHODS, type Selected } from './protocol';
import { SECTION } from './settings';
import { applyDaemonStatus, initialStatus, renderStatus, restarted, type StatusModel } from './status';

let daemon: Daemon | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('ardaemon', { log: true });
  const auth = new Auth(context.secrets);
  daemon = new Daemon({
    log,
    token: () => auth.token(),
    middleware: inlineMiddleware,
    bundledServer: () => bundledServer(context, log),
  });
  const d = daemon;

  const item = vscode.window.createStatusBarItem('ardaemon.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'ardaemon';
  let status: StatusModel = { ...initialStatus(), completionsEnabled: completionsEnabled() };
  let selected: Selected = { completion: null, chat: null };
  const update = (next: StatusModel): void => {
    status = next;
    const view = renderStatus(status);
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
    item.command = view.command;
    item.show();
  };
  const setSelected = (next: Selected): void => {
    selected = next;
    update({ ...status, model: next.completion ?? status.model });
    ChatPanel.modelChanged();
  };
  update(status);

  /** The selection as the daemon has it, for the status bar (no network: cache is fine). */
  const refreshSelection = async (): Promise<void> => {
    try {
      const result = await d.request<ListModelsResult>(METHODS.listModels, {});
      log.info(
        `models: completion ${result.selected.completion ?? '(none)'}, chat ${result.selected.chat ?? '(none)'}`,
      );
      setSelected(result.selected);
    } catch (err) {
      log.warn(`listing models: ${describeError(err)}`);
      const kind = errorData(err).kind;
      update(applyDaemonStatus(status, { state: 'error', message: describeError(err), ...(kind ? { kind } : {}) }));
    }
  };

  context.subscriptions.push(
    log,
    item,
    auth,
    d,
    d.onEvent((event) => {
      switch (event.type) {
        case 'starting':
          update(restarted(status));
          return;
        case 'missing':
        case 'stopped':
          update({ ...status, phase: event.type });
          return;
        case 'running':
          update({ ...status, phase: 'running' });
          void refreshSelection();
          return;
        case 'status':
          update(applyDaemonStatus(status, event.status));
          return;
      }
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration(SECTION)) {
        return;
      }
      update({ ...status, completionsEnabled: completionsEnabled() });
      log.info('settings changed: telling the daemon');
      if (e.affectsConfiguration(`${SECTION}.serverPath`)) {
        await d.restart();
        return;
      }
      await d.pushSettings();
      if (e.affectsConfiguration(`${SECTION}.models`) || e.affectsConfiguration(`${SECTION}.provider`)) {
        await refreshSelection();
      }
    }),
  );

  const select = (target: Target) => async (): Promise<void> => {
    const next = await pickModel(d, target);
    if (next) {
      setSelected(next);
      const shown = target === 'chat' ? next.chat : next.completion;
      vscode.window.setStatusBarMessage(`ardaemon: now using ${shown ?? 'the default model'}`, 3000);
    }
  };

  const command = (id: string, run: () => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  };
  command('ardaemon.selectModel', select('both'));
  command('ardaemon.selectCompletionModel', select('completion'));
  command('ardaemon.selectChatModel', select('chat'));
  command('ardaemon.signIn', async () => {
    const result = await auth.signIn(d, log);
    update({ ...status, signedIn: (await auth.token()) !== undefined });
    if (result) {
      setSelected(result.selected);
    }
  });
  command('ardaemon.signOut', async () => {
    await auth.signOut(d, log);
    update({ ...status, signedIn: false });
  });
  command('ardaemon.openChat', () => ChatPanel.show(d, () => selected.chat));
  command('ardaemon.showLog', () => log.show());
  command('ardaemon.toggleCompletions', () => toggleCompletions());
  command('ardaemon.restart', () => d.restart());

  update({ ...status, signedIn: (await auth.token()) !== undefined });
  void d.start();
}

export async function deactivate(): Promise<void> {
  await daemon?.stop();
  daemon = undefined;
}
