// Inline (ghost-text) completions come from the language client's standard support for
// `textDocument/inlineCompletion`, which the daemon advertises. This module only adds the
// on/off switch: a middleware that skips the request while completions are off, and the
// toggle command that flips `ardaemon.completion.enabled` (the daemon hears it too).

import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { SECTION } from './settings';

const KEY = 'completion.enabled';

export function completionsEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>(KEY, true);
}

export const inlineMiddleware: Middleware = {
  provideInlineCompletionItems(document, position, context, token, next) {
    if (!completionsEnabled()) {
      return null;
    }
    return next(document, position, context, token);
  },
};

/** Flip the setting where it is set (folder, workspace or user), so the flip takes effect. */
export async function toggleCompletions(): Promise<boolean> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const inspect = config.inspect<boolean>(KEY);
  const target =
    inspect?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspect?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  const enabled = !completionsEnabled();
  await config.update(KEY, enabled, target);
  vscode.window.setStatusBarMessage(`ardaemon: inline completions ${enabled ? 'on' : 'off'}`, 3000);
  return enabled;
}
