// "ardaemon: Select Model": a quick pick over the daemon's catalog, grouped by wire format,
// the current model marked, a stale catalog noted, and a Refresh item that keeps it open; then,
// in the same picker, the role (completions and chat / completions only / chat only). One
// command for all three, so the palette never runs a narrower one by accident.

import * as vscode from 'vscode';
import type { Daemon } from './client';
import { describeError, needsSignIn } from './errors';
import { catalogNote, type Entry, pickEntries, pickerTitle, roleChoices, type Target } from './models';
import { REQUESTS, type Selected } from './protocol';

type Item = vscode.QuickPickItem & { entry?: Entry; target?: Target };

export interface Picked {
  selected: Selected;
  model: string;
  target: Target;
}

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

/**
 * Resolves to the new selection, or undefined when dismissed. With no `target`, the picker asks
 * for the role after the model (step 2 of 2).
 */
export function pickModel(daemon: Daemon, target?: Target): Promise<Picked | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = pickerTitle(target);
    qp.placeholder = 'Loading the model catalog…';
    qp.matchOnDescription = true;
    qp.busy = true;
    qp.ignoreFocusOut = false;
    let settled = false;
    let selectedNow: Selected = { completion: null, chat: null };
    let chosen: string | undefined;
    const finish = (value: Picked | undefined): void => {
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
        selectedNow = result.selected;
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

    const apply = async (model: string, role: Target): Promise<void> => {
      qp.busy = true;
      qp.enabled = false;
      try {
        const params = role === 'both' ? { model } : { model, role };
        const result = await daemon.request(REQUESTS.selectModel, params);
        finish({ selected: result.selected, model, target: role });
      } catch (err) {
        void vscode.window.showErrorMessage(`ardaemon: ${describeError(err)}`);
        finish(undefined);
      }
    };

    const askRole = (model: string): void => {
      chosen = model;
      qp.title = `ardaemon: Select Model: use ${model} for…`;
      qp.step = 2;
      qp.totalSteps = 2;
      qp.value = '';
      qp.placeholder = 'Which requests this model answers';
      qp.items = roleChoices(model, selectedNow).map((c) => ({
        label: c.label,
        description: c.description,
        target: c.target,
      }));
      qp.activeItems = [qp.items[0] as Item];
    };

    qp.onDidAccept(async () => {
      const picked = qp.selectedItems[0];
      if (chosen !== undefined && picked?.target) {
        await apply(chosen, picked.target);
        return;
      }
      const entry = picked?.entry;
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
      if (target === undefined) {
        askRole(entry.model.id);
      } else {
        await apply(entry.model.id, target);
      }
    });
    qp.onDidHide(() => finish(undefined));
    if (target === undefined) {
      qp.step = 1;
      qp.totalSteps = 2;
    }
    qp.show();
    void load(false);
  });
}
