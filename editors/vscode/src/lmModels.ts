// The pure half of lmChat.ts (no `vscode` import, so plain Node tests it): the daemon's catalog
// as Language Model Chat information, and a chat request's messages as `ardaemon/chat` takes them.

import type { ChatMessage, ChatResult, ListModelsResult } from './protocol';

/** `LanguageModelChatInformation` (1.104). */
export interface ChatInformation {
  id: string;
  name: string;
  family: string;
  version: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  tooltip?: string;
  detail?: string;
  capabilities: { toolCalling?: boolean; imageInput?: boolean };
}

/** A `LanguageModelChatRequestMessage`: a role number and parts (text parts carry `value`). */
export interface RequestMessage {
  role: number;
  content: readonly unknown[];
}

/** The catalog as the picker shows it; the daemon routes each id to its wire format. */
export function chatInformation(result: ListModelsResult): ChatInformation[] {
  return result.models.map((m) => ({
    id: m.id,
    name: m.name && m.name !== m.id ? m.name : m.id,
    family: m.api,
    version: m.ownedBy ?? m.provider,
    maxInputTokens: 128000,
    maxOutputTokens: 4096,
    tooltip: `${m.id} through ardaemon (${m.api === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'})`,
    detail: 'ardaemon',
    capabilities: {},
  }));
}

/** The request's messages as `ardaemon/chat` takes them: text parts only, roles by number. */
export function toChatMessages(messages: readonly RequestMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const text = m.content
      .map((part) =>
        typeof part === 'string'
          ? part
          : part && typeof (part as { value?: unknown }).value === 'string'
            ? (part as { value: string }).value
            : '',
      )
      .join('');
    if (text === '') {
      continue;
    }
    // LanguageModelChatMessageRole: User = 1, Assistant = 2, System = 3 (proposed).
    out.push({ role: m.role === 2 ? 'assistant' : m.role === 3 ? 'system' : 'user', content: text });
  }
  return out;
}

/** The `modelOptions` key under which the `@ardaemon` participant names its request, so the
 * provider can tell it who answered: the Language Model API passes text only. */
export const ANSWER_KEY = 'ardaemonAnswer';
const KEPT_ANSWERS = 16;

/** `ardaemon/chat` results of participant requests, by the key their options carried. */
export class Answers {
  private readonly byKey = new Map<string, Pick<ChatResult, 'model' | 'fallbackFrom'>>();

  /** Note a result when the request's options (`ProvideLanguageModelChatResponseOptions`)
   * carry a key; requests from anyone else carry none and are not kept. */
  record(options: unknown, result: Pick<ChatResult, 'model' | 'fallbackFrom'>): void {
    const key = (options as { modelOptions?: Record<string, unknown> } | undefined)?.modelOptions?.[ANSWER_KEY];
    if (typeof key !== 'string') {
      return;
    }
    this.byKey.set(key, { model: result.model, fallbackFrom: result.fallbackFrom });
    for (const old of this.byKey.keys()) {
      if (this.byKey.size <= KEPT_ANSWERS) {
        break;
      }
      this.byKey.delete(old); // a participant that never came back for its answer
    }
  }

  take(key: string): Pick<ChatResult, 'model' | 'fallbackFrom'> | undefined {
    const found = this.byKey.get(key);
    this.byKey.delete(key);
    return found;
  }
}

/** The line under a participant's reply when the fallback chain answered, else undefined. */
export function fallbackNote(answer: Pick<ChatResult, 'model' | 'fallbackFrom'> | undefined): string | undefined {
  if (!answer?.fallbackFrom) {
    return undefined;
  }
  return `\n\n*Answered by ${answer.model}, fallback from ${answer.fallbackFrom} (it failed before any output; \`models.fallback.chat\`).*`;
}
