// Sign in and out. The token lives in VS Code's SecretStorage and reaches the daemon only through
// its environment (AGENTROUTER_API_KEY) when the daemon process starts: never settings or logs.

import * as vscode from 'vscode';
import type { Daemon } from './client';
import { describeError, needsSignIn } from './errors';
import { type ListModelsResult, REQUESTS } from './protocol';
import { tokenProblem } from './settings';

const SECRET_KEY = 'ardaemon.apiKey';

export class Auth {
  private readonly changes = new vscode.EventEmitter<boolean>();
  readonly onDidChange = this.changes.event;

  constructor(private readonly secrets: vscode.SecretStorage) {}

  token(): Promise<string | undefined> {
    return Promise.resolve(this.secrets.get(SECRET_KEY)).then((t) => t || undefined);
  }

  /** Resolves to the catalog fetched with the new token, or undefined (cancelled or failed). */
  async signIn(daemon: Daemon, log: vscode.LogOutputChannel): Promise<ListModelsResult | undefined> {
    const value = await vscode.window.showInputBox({
      title: 'ardaemon: Sign In',
      prompt: "Your AgentRouter API key. It is kept in VS Code's secret storage and given only to the ardaemon daemon.",
      placeHolder: 'sk-…',
      password: true,
      ignoreFocusOut: true,
      validateInput: tokenProblem,
    });
    if (value === undefined) {
      return undefined;
    }
    await this.secrets.store(SECRET_KEY, value.trim());
    log.info('signed in: token stored in secret storage; restarting the daemon');
    this.changes.fire(true);
    await daemon.restart();
    return this.check(daemon);
  }

  /** Ask the gateway for the catalog with the new token, so a wrong token shows at once. */
  private async check(daemon: Daemon): Promise<ListModelsResult | undefined> {
    try {
      const result = await daemon.request(REQUESTS.listModels, { refresh: true });
      void vscode.window.showInformationMessage(`ardaemon: signed in; ${result.models.length} models available.`);
      return result;
    } catch (err) {
      const again = 'Sign In Again';
      const choice = await vscode.window.showErrorMessage(
        `ardaemon: the token is stored, but ${describeError(err)}`,
        ...(needsSignIn(err) ? [again] : []),
      );
      if (choice === again) {
        await vscode.commands.executeCommand('ardaemon.signIn');
      }
      return undefined;
    }
  }

  async signOut(daemon: Daemon, log: vscode.LogOutputChannel): Promise<void> {
    await this.secrets.delete(SECRET_KEY);
    log.info('signed out: token removed from secret storage; restarting the daemon');
    this.changes.fire(false);
    await daemon.restart();
    void vscode.window.showInformationMessage(
      'ardaemon: signed out. The daemon now uses AGENTROUTER_API_KEY or a token stored by `ardaemon login`, if any.',
    );
  }

  dispose(): void {
    this.changes.dispose();
  }
}
