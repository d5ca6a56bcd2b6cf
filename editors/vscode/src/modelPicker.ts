// "ardaemon: Select Model": a quick pick over the daemon's catalog, grouped by wire format,
// the current model marked, a stale catalog noted, and a Refresh item that keeps it open.

import * as vscode from 'vscode';
import type { Daemon } from './client';
import { describeError, needsSignIn } from './errors';
import { catalogNote, type Entry, pickEntries, pickerTitle, type Target } from './models';
import { REQUESTS, type Selected } from './protocol';

type Item = vscode.QuickPickItem & { entry?: Entry };

function toItem(entry: Entry): Item {
  switch (entry.kind) {
    case 'separator':
      return { label: entry.label, kind: vscode.QuickPickItemKind.Separator };
    case 'model':
      return {
        label: entry.label,
        description: entry.description,
        ...(entry.detail === undefined ? {} : { detail: entry.detail }),
        entry,
      };
    case 'refresh':
      return { label: entry.label, description: entry.description, alwaysShow: true, entry };
  }
}

/** Resolves to the new selection, or undefined when dismissed. */
export function pickModel(daemon: Daemon, target: Target): Promise<Selected | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = pickerTitle(target);
    qp.placeholder = 'Loading the model catalog…';
    qp.matchOnDescription = true;
    qp.busy = true;
    qp.ignoreFocusOut = false;
    let settled = false;
    const finish = (value: Selected | undefined): void => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
      qp.dispose();
    };

    const load = async (refresh: boolean): Promise<void> => {
      qp.busy = true;
      qp.enabled = false;
      try {
        const result = await daemon.request(REQUESTS.listModels, { refresh });
        const items = pickEntries(result, target, new Date()).map(toItem);
        qp.items = items;
        const current = items.find((item) => item.entry?.kind === 'model' && item.entry.current);
        qp.activeItems = current ? [current] : [];
        qp.placeholder = catalogNote(result, new Date()).replace(/^\$\(warning\) /, '⚠ ');
      } catch (err) {
        qp.items = [toItem({ kind: 'refresh', label: '$(refresh) Refresh', description: 'try again' })];
        qp.placeholder = `Could not list models: ${describeError(err)}`;
        if (needsSignIn(err)) {
          void vscode.window
            .showErrorMessage(`ardaemon: ${describeError(err)}`, 'Sign In')
            .then((choice) => choice && vscode.commands.executeCommand('ardaemon.signIn'));
        }
      } finally {
        qp.busy = false;
        qp.enabled = true;
      }
    };

    qp.onDidAccept(async () => {
      const entry = qp.selectedItems[0]?.entry;
      if (!entry) {
        return;
      }
      if (entry.kind === 'refresh') {
        await load(true);
        return;
      }
      if (entry.kind !== 'model') {
        return;
      }
      qp.busy = true;
      qp.enabled = false;
      try {
        const params = target === 'both' ? { model: entry.model.id } : { model: entry.model.id, role: target };
        const result = await daemon.request(REQUESTS.selectModel, params);
        finish(result.selected);
      } catch (err) {
        void vscode.window.showErrorMessage(`ardaemon: ${describeError(err)}`);
        finish(undefined);
      }
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
    void load(false);
  });
}
