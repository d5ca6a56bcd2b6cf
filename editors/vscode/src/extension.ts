// Activation: one context (ctx.ts) holding the daemon and the status bar, and the commands
// (commands.ts). Features live in their modules.

import type * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { registerLanguageModels } from './lmChat';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context);
  context.subscriptions.push(ctx, ...registerCommands(ctx), ...registerLanguageModels(ctx.daemon, ctx.log));
  await ctx.refreshSignedIn();
  void ctx.daemon.start();
}

export async function deactivate(): Promise<void> {
  await ctx?.daemon.stop();
  ctx = undefined;
}
