// The gateway's models in VS Code's own chat view: a Language Model Chat Provider (vendor
// `ardaemon`, stable since VS Code 1.104) lists the daemon's catalog in the model picker and
// streams replies through `ardaemon/chat`; the `@ardaemon` chat participant answers with the
// model picked there (no sign-in needed). Where the API is missing (older VS Code) nothing is
// registered and "ardaemon: Open Chat" (the webview) stays the way to chat.
//
// `@types/vscode` stays at the oldest supported VS Code (engines.vscode), so the newer API is
// typed here, from the 1.104 declarations, and looked up at run time.

import * as vscode from 'vscode';
import type { Daemon } from './client';
import { newProgressToken } from './chatSession';
import { describeError, errorData, isCancelled } from './errors';
import {
  ANSWER_KEY,
  Answers,
  type ChatInformation,
  chatInformation,
  fallbackNote,
  type RequestMessage,
  toChatMessages,
} from './lmModels';
import type { ChatResult } from './protocol';
import { PROGRESS, REQUESTS } from './protocol';

export const VENDOR = 'ardaemon';
export const PARTICIPANT = 'ardaemon.chat';

interface Provider {
  onDidChangeLanguageModelChatInformation?: vscode.Event<void>;
  provideLanguageModelChatInformation(
    options: { silent: boolean },
    token: vscode.CancellationToken,
  ): Promise<ChatInformation[]>;
  provideLanguageModelChatResponse(
    model: ChatInformation,
    messages: readonly RequestMessage[],
    options: unknown,
    progress: vscode.Progress<unknown>,
    token: vscode.CancellationToken,
  ): Promise<void>;
  provideTokenCount(
    model: ChatInformation,
    text: string | RequestMessage,
    token: vscode.CancellationToken,
  ): Promise<number>;
}

interface LmApi {
  registerLanguageModelChatProvider?: (vendor: string, provider: Provider) => vscode.Disposable;
  selectChatModels: (selector: { vendor: string }) => Thenable<unknown[]>;
}

type TextPartCtor = new (value: string) => unknown;

/** A daemon error as the Language Model API expects it (LanguageModelError where one fits). */
export function toLanguageModelError(err: unknown): Error {
  const message = describeError(err);
  const LmError = (vscode as unknown as { LanguageModelError?: typeof vscode.LanguageModelError }).LanguageModelError;
  switch (errorData(err).kind) {
    case 'auth':
    case 'unauthorized_client':
      return LmError ? LmError.NoPermissions(message) : new Error(message);
    case 'model_not_found':
      return LmError ? LmError.NotFound(message) : new Error(message);
    default:
      return new Error(message);
  }
}

class DaemonChatProvider implements Provider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  /** Who answered the participant's requests (a fallback is noted under the reply). */
  readonly answers = new Answers();

  constructor(
    private readonly daemon: Daemon,
    private readonly textPart: TextPartCtor,
  ) {}

  /** The catalog changed (sign-in, refresh): the picker asks again. */
  refresh(): void {
    this.changed.fire();
  }

  async provideLanguageModelChatInformation(): Promise<ChatInformation[]> {
    try {
      return chatInformation(await this.daemon.request(REQUESTS.listModels, {}));
    } catch {
      return []; // no token yet: no models, and the status bar says why
    }
  }

  async provideLanguageModelChatResponse(
    model: ChatInformation,
    messages: readonly RequestMessage[],
    options: unknown,
    progress: vscode.Progress<unknown>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const partial = newProgressToken();
    const listening = await this.daemon.onProgress(PROGRESS.chat, partial, (value) => {
      if (!token.isCancellationRequested && value.delta) {
        progress.report(new this.textPart(value.delta));
      }
    });
    try {
      const result: ChatResult = await this.daemon.request(
        REQUESTS.chat,
        { messages: toChatMessages(messages), model: model.id, partialResultToken: partial },
        token,
      );
      this.answers.record(options, result);
    } catch (err) {
      if (token.isCancellationRequested || isCancelled(err)) {
        throw new vscode.CancellationError();
      }
      throw toLanguageModelError(err);
    } finally {
      listening.dispose();
    }
  }

  async provideTokenCount(_model: ChatInformation, text: string | RequestMessage): Promise<number> {
    const s =
      typeof text === 'string'
        ? text
        : toChatMessages([text])
            .map((m) => m.content)
            .join('');
    return Math.ceil(s.length / 4); // an estimate: the gateway counts the real tokens
  }
}

/** Register the provider and the `@ardaemon` participant when this VS Code has the API. */
export function registerLanguageModels(daemon: Daemon, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const lm = vscode.lm as unknown as LmApi | undefined;
  const textPart = (vscode as unknown as { LanguageModelTextPart?: TextPartCtor }).LanguageModelTextPart;
  if (!lm?.registerLanguageModelChatProvider || !textPart) {
    log.info('this VS Code has no Language Model Chat Provider API: chat is in "ardaemon: Open Chat"');
    return [];
  }
  const provider = new DaemonChatProvider(daemon, textPart);
  const disposables = [lm.registerLanguageModelChatProvider(VENDOR, provider)];
  // The chat view asks providers for models only when someone selects models: ask once so
  // the picker lists the catalog from the start.
  setTimeout(() => void lm.selectChatModels({ vendor: VENDOR }), 0);
  if (vscode.chat?.createChatParticipant) {
    const participant = vscode.chat.createChatParticipant(PARTICIPANT, async (request, context, stream, token) => {
      const history: vscode.LanguageModelChatMessage[] = [];
      for (const turn of context.history) {
        if (turn instanceof vscode.ChatRequestTurn) {
          history.push(vscode.LanguageModelChatMessage.User(turn.prompt));
        } else if (turn instanceof vscode.ChatResponseTurn) {
          // The fallback note is ours, not the model's words: it is not history.
          const note = (turn.result.metadata as { note?: string } | undefined)?.note;
          const text = turn.response
            .map((part) =>
              part instanceof vscode.ChatResponseMarkdownPart && part.value.value !== note ? part.value.value : '',
            )
            .join('');
          history.push(vscode.LanguageModelChatMessage.Assistant(text));
        }
      }
      history.push(vscode.LanguageModelChatMessage.User(request.prompt));
      const model = (request as unknown as { model?: vscode.LanguageModelChat }).model;
      if (!model) {
        stream.markdown('Pick a model in the chat view first.');
        return {};
      }
      const key = newProgressToken();
      try {
        const reply = await model.sendRequest(history, { modelOptions: { [ANSWER_KEY]: key } }, token);
        for await (const chunk of reply.text) {
          stream.markdown(chunk);
        }
        const answer = provider.answers.take(key);
        const note = fallbackNote(answer);
        if (note) {
          stream.markdown(note);
        }
        return { metadata: { model: answer?.model ?? model.id, fallbackFrom: answer?.fallbackFrom, note } };
      } catch (err) {
        if (token.isCancellationRequested) {
          return {};
        }
        return { errorDetails: { message: err instanceof Error ? err.message : String(err) } };
      }
    });
    participant.iconPath = new vscode.ThemeIcon('sparkle');
    disposables.push(participant);
  }
  // A (re)started daemon may know a new catalog or token: the picker asks again.
  disposables.push(daemon.onEvent((event) => event.type === 'running' && provider.refresh()));
  return disposables;
}
