// "ardaemon: Open Chat": a webview panel. Each question is one `ardaemon/chat` request with a
// `partialResultToken`; the reply streams in through `$/progress {token, value: {delta}}`.
// Stop cancels the request (`$/cancelRequest`), which makes the daemon close the upstream call.

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { Daemon } from './client';
import { ChatSession, newProgressToken, speaker } from './chatSession';
import { describeError, isCancelled } from './errors';
import { PROGRESS, REQUESTS } from './protocol';

type FromWebview =
  { type: 'ready' } | { type: 'ask'; text: string } | { type: 'stop' } | { type: 'clear' } | { type: 'pickModel' };

export class ChatPanel implements vscode.Disposable {
  private static current: ChatPanel | undefined;
  private readonly session = new ChatSession();
  private inFlight: vscode.CancellationTokenSource | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(daemon: Daemon, chatModel: () => string | null): ChatPanel {
    if (ChatPanel.current) {
      ChatPanel.current.panel.reveal();
      return ChatPanel.current;
    }
    const panel = vscode.window.createWebviewPanel('ardaemon.chat', 'ardaemon Chat', vscode.ViewColumn.Beside, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [],
    });
    ChatPanel.current = new ChatPanel(panel, daemon, chatModel);
    return ChatPanel.current;
  }

  /** Tell an open panel that the chat model changed. */
  static modelChanged(): void {
    ChatPanel.current?.postState();
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly daemon: Daemon,
    private readonly chatModel: () => string | null,
  ) {
    panel.webview.html = html(crypto.randomBytes(16).toString('base64'), panel.webview.cspSource);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((msg: FromWebview) => this.receive(msg)),
    );
  }

  private post(message: object): void {
    void this.panel.webview.postMessage(message);
  }

  private postState(): void {
    const turns = this.session.turns.map((turn) => ({ ...turn, speaker: speaker(turn) }));
    this.post({ type: 'state', turns, model: this.chatModel(), busy: this.session.busy });
  }

  private async receive(msg: FromWebview): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.postState();
        return;
      case 'ask':
        await this.ask(msg.text);
        return;
      case 'stop':
        this.inFlight?.cancel();
        return;
      case 'clear':
        this.inFlight?.cancel();
        this.session.clear();
        this.postState();
        return;
      case 'pickModel':
        await vscode.commands.executeCommand('ardaemon.selectModel', 'chat');
        return;
    }
  }

  private async ask(text: string): Promise<void> {
    if (this.session.busy || text.trim() === '') {
      return;
    }
    const token = newProgressToken();
    const params = this.session.ask(text, { token });
    this.postState();
    const cts = new vscode.CancellationTokenSource();
    this.inFlight = cts;
    const progress = await this.daemon.onProgress(PROGRESS.chat, token, (value) => {
      this.post({ type: 'delta', content: this.session.delta(value.delta) });
    });
    try {
      const result = await this.daemon.request(REQUESTS.chat, params, cts.token);
      if (cts.token.isCancellationRequested) {
        this.session.stop();
      } else {
        this.session.finish(result);
      }
    } catch (err) {
      if (cts.token.isCancellationRequested || isCancelled(err) || err instanceof vscode.CancellationError) {
        this.session.stop();
      } else {
        this.session.fail(describeError(err));
      }
    } finally {
      progress.dispose();
      cts.dispose();
      if (this.inFlight === cts) {
        this.inFlight = undefined;
      }
      this.postState();
    }
  }

  dispose(): void {
    this.inFlight?.cancel();
    ChatPanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
  }
}

function html(nonce: string, cspSource: string): string {
  return /* html */ `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>ardaemon Chat</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground);
         margin: 0; padding: 0; display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; gap: 8px; align-items: center; padding: 6px 10px; border-bottom: 1px solid var(--vscode-panel-border); }
  header .model { flex: 1; opacity: 0.85; }
  #log { flex: 1; overflow-y: auto; padding: 10px; }
  .turn { margin: 0 0 12px 0; padding: 8px 10px; border-radius: 4px; white-space: pre-wrap; word-wrap: break-word; }
  .user { background: var(--vscode-input-background); }
  .assistant { background: var(--vscode-editor-inactiveSelectionBackground); }
  .who { font-weight: 600; font-size: 0.85em; opacity: 0.8; margin-bottom: 4px; }
  .note { font-size: 0.85em; opacity: 0.75; margin-top: 4px; }
  .error .note { color: var(--vscode-errorForeground); opacity: 1; }
  pre { font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: 6px; overflow-x: auto; margin: 4px 0; }
  form { display: flex; gap: 6px; padding: 8px 10px; border-top: 1px solid var(--vscode-panel-border); }
  textarea { flex: 1; resize: vertical; min-height: 2.5em; font-family: inherit; font-size: inherit;
             color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); padding: 4px; }
  button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 4px 12px; cursor: pointer; }
  button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
  button:disabled { opacity: 0.5; cursor: default; }
  .cursor::after { content: '▍'; animation: blink 1s step-start infinite; }
  @keyframes blink { 50% { opacity: 0; } }
</style>
</head>
<body>
<header>
  <span class="model" id="model">Model: …</span>
  <button class="secondary" id="pick" type="button" title="ardaemon: Select Model (for chat)">Change model</button>
  <button class="secondary" id="clear" type="button">New chat</button>
</header>
<div id="log" aria-live="polite"></div>
<form id="form">
  <textarea id="input" rows="2" placeholder="Ask anything (Enter to send, Shift+Enter for a new line)"></textarea>
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" class="secondary" disabled>Stop</button>
</form>
<script nonce="${nonce}">
(function () {
  const vscode = acquireVsCodeApi();
  const log = document.getElementById('log');
  const input = document.getElementById('input');
  const send = document.getElementById('send');
  const stop = document.getElementById('stop');
  const model = document.getElementById('model');
  let busy = false;

  // Plain text with fenced code blocks as <pre>; built with textContent, never innerHTML.
  function fill(el, text) {
    el.textContent = '';
    const parts = text.split(/\`\`\`[^\\n]*\\n?/);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        const pre = document.createElement('pre');
        pre.textContent = part;
        el.appendChild(pre);
      } else if (part) {
        el.appendChild(document.createTextNode(part));
      }
    });
  }

  function render(turns) {
    log.textContent = '';
    turns.forEach(function (turn) {
      const div = document.createElement('div');
      div.className = 'turn ' + turn.role + (turn.state === 'error' ? ' error' : '');
      div.dataset.state = turn.state || '';
      const who = document.createElement('div');
      who.className = 'who';
      who.textContent = turn.speaker;
      if (turn.fallbackFrom) {
        who.title = 'Answered by a fallback: ' + turn.fallbackFrom + ' failed before any output (models.fallback.chat).';
      }
      const body = document.createElement('div');
      body.className = 'body' + (turn.state === 'streaming' ? ' cursor' : '');
      fill(body, turn.content);
      div.appendChild(who);
      div.appendChild(body);
      const note = turn.state === 'stopped' ? 'Stopped.' : turn.state === 'error' ? turn.error : '';
      if (note) {
        const n = document.createElement('div');
        n.className = 'note';
        n.textContent = note;
        div.appendChild(n);
      }
      log.appendChild(div);
    });
    log.scrollTop = log.scrollHeight;
  }

  window.addEventListener('message', function (event) {
    const msg = event.data;
    if (msg.type === 'state') {
      busy = msg.busy;
      send.disabled = busy;
      stop.disabled = !busy;
      model.textContent = 'Model: ' + (msg.model || 'the daemon\\'s default');
      render(msg.turns);
    } else if (msg.type === 'delta') {
      const bodies = log.querySelectorAll('.assistant .body');
      const last = bodies[bodies.length - 1];
      if (last) {
        fill(last, msg.content);
        log.scrollTop = log.scrollHeight;
      }
    }
  });

  document.getElementById('form').addEventListener('submit', function (e) {
    e.preventDefault();
    if (busy || !input.value.trim()) { return; }
    vscode.postMessage({ type: 'ask', text: input.value });
    input.value = '';
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      document.getElementById('form').requestSubmit();
    }
  });
  stop.addEventListener('click', function () { vscode.postMessage({ type: 'stop' }); });
  document.getElementById('clear').addEventListener('click', function () { vscode.postMessage({ type: 'clear' }); });
  document.getElementById('pick').addEventListener('click', function () { vscode.postMessage({ type: 'pickModel' }); });
  vscode.postMessage({ type: 'ready' });
  input.focus();
})();
</script>
</body>
</html>`;
}
