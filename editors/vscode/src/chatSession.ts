// One chat conversation: the transcript sent with each `ardaemon/chat`, and the reply being
// streamed in through `$/progress`. Pure; chat.ts wires it to the webview and the client.

import type { ChatMessage, ChatParams, ChatResult } from './protocol';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
  /** For an assistant turn: still streaming, finished, stopped by the user, or failed. */
  state?: 'streaming' | 'done' | 'stopped' | 'error';
  model?: string;
  /** The model first asked, when the daemon's fallback chain (`models.fallback`) answered. */
  fallbackFrom?: string;
  error?: string;
}

/** Who a turn is from, as the transcript heads it: the model that answered, and the model
 * first asked when a fallback answered instead. */
export function speaker(turn: Turn): string {
  if (turn.role === 'user') {
    return 'You';
  }
  const model = turn.model || 'ardaemon';
  return turn.fallbackFrom ? `${model} (fallback from ${turn.fallbackFrom})` : model;
}

let counter = 0;

/** A `partialResultToken` unique within this extension host. */
export function newProgressToken(now: number = Date.now()): string {
  counter += 1;
  return `ardaemon-chat-${now.toString(36)}-${counter}`;
}

export class ChatSession {
  readonly turns: Turn[] = [];

  /** Whether a reply is streaming; a new question waits until it finishes or is stopped. */
  get busy(): boolean {
    return this.turns.at(-1)?.state === 'streaming';
  }

  /**
   * Add the user's question and an empty streaming reply; return the request's params.
   * Only finished exchanges are sent as history: a stopped or failed reply is not context.
   */
  ask(question: string, opts: { model?: string; token: string | number }): ChatParams {
    if (this.busy) {
      throw new Error('a reply is still streaming');
    }
    const text = question.trim();
    if (text === '') {
      throw new Error('empty question');
    }
    const history: ChatMessage[] = [];
    for (let i = 0; i < this.turns.length; i += 1) {
      const turn = this.turns[i]!;
      const reply = this.turns[i + 1];
      if (turn.role === 'user' && reply?.role === 'assistant' && reply.state === 'done') {
        history.push({ role: 'user', content: turn.content }, { role: 'assistant', content: reply.content });
        i += 1;
      }
    }
    this.turns.push({ role: 'user', content: text });
    this.turns.push({ role: 'assistant', content: '', state: 'streaming' });
    const params: ChatParams = {
      messages: [...history, { role: 'user', content: text }],
      partialResultToken: opts.token,
    };
    if (opts.model) {
      params.model = opts.model;
    }
    return params;
  }

  private get pending(): Turn | undefined {
    const last = this.turns.at(-1);
    return last?.state === 'streaming' ? last : undefined;
  }

  /** One `$/progress {delta}`; returns the reply so far. */
  delta(text: string): string {
    const turn = this.pending;
    if (!turn) {
      return '';
    }
    turn.content += text;
    return turn.content;
  }

  /** The final result wins over the streamed text (they are equal when nothing was lost). */
  finish(result: ChatResult): Turn | undefined {
    const turn = this.pending;
    if (!turn) {
      return undefined;
    }
    turn.content = result.content;
    turn.state = 'done';
    turn.model = result.model;
    if (result.fallbackFrom) {
      turn.fallbackFrom = result.fallbackFrom;
    }
    return turn;
  }

  stop(): Turn | undefined {
    const turn = this.pending;
    if (turn) {
      turn.state = 'stopped';
    }
    return turn;
  }

  fail(message: string): Turn | undefined {
    const turn = this.pending;
    if (turn) {
      turn.state = 'error';
      turn.error = message;
    }
    return turn;
  }

  clear(): void {
    this.turns.length = 0;
  }
}
