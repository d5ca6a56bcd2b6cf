// Every command as a factory of the context (rust-analyzer's commands.ts): the handler gets what
// it needs from Ctx, and activate() registers the table. package.json's contributes.commands
// lists the same ids (test/manifest.test.ts).

import * as vscode from 'vscode';
import { ChatPanel } from './chat';
import type { Ctx } from './ctx';
import { toggleCompletions } from './inline';
import { pickModel } from './modelPicker';
import { pickedMessage, type Target } from './models';

export type Cmd = (...args: unknown[]) => unknown;

const TARGETS: readonly unknown[] = ['completion', 'chat', 'both'];

/** One command; the picker asks for the role unless a caller (the chat panel) names one. */
function selectModel(ctx: Ctx): Cmd {
  return async (role?: unknown) => {
    const picked = await pickModel(ctx.daemon, TARGETS.includes(role) ? (role as Target) : undefined);
    if (picked) {
      ctx.setSelected(picked.selected);
      void vscode.window.showInformationMessage(pickedMessage(picked.model, picked.target));
    }
  };
}

function signIn(ctx: Ctx): Cmd {
  return async () => {
    const result = await ctx.auth.signIn(ctx.daemon, ctx.log);
    await ctx.refreshSignedIn();
    if (result) {
      ctx.setSelected(result.selected);
    }
  };
}

function signOut(ctx: Ctx): Cmd {
  return async () => {
    await ctx.auth.signOut(ctx.daemon, ctx.log);
    ctx.update({ signedIn: false });
  };
}

export const COMMANDS: { [id: string]: (ctx: Ctx) => Cmd } = {
  'ardaemon.selectModel': selectModel,
  'ardaemon.signIn': signIn,
  'ardaemon.signOut': signOut,
  'ardaemon.openChat': (ctx) => () => ChatPanel.show(ctx.daemon, () => ctx.selected.chat),
  'ardaemon.showLog': (ctx) => () => ctx.log.show(),
  'ardaemon.toggleCompletions': () => () => toggleCompletions(),
  'ardaemon.restart': (ctx) => () => ctx.daemon.restart(),
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => vscode.commands.registerCommand(id, factory(ctx)));
}
