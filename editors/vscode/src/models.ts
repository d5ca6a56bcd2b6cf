// The model picker's entries, built from `ardaemon/listModels`. Pure: the quick pick itself is
// in modelPicker.ts.

import type { Api, ListModelsResult, Model, Role, Selected } from './protocol';

/** What a pick applies to: one role, or both (the daemon's `selectModel` without a role). */
export type Target = Role | 'both';

export type Entry =
  | { kind: 'separator'; label: string }
  | { kind: 'model'; label: string; description: string; detail?: string; model: Model; current: boolean }
  | { kind: 'refresh'; label: string; description: string };

const API_TITLES: { [api in Api]: string } = {
  anthropic: 'Anthropic Messages (/v1/messages)',
  openai: 'OpenAI Chat Completions (/v1/chat/completions)',
};

/** Order of the groups: Claude models first, like the gateway lists them. */
const API_ORDER: Api[] = ['anthropic', 'openai'];

export function currentFor(result: Pick<ListModelsResult, 'selected'>, target: Target | undefined): string | null {
  if (target === 'both' || target === undefined) {
    return result.selected.completion ?? result.selected.chat;
  }
  return result.selected[target];
}

/** How old the catalog is, for people: "3 min ago", "2 h ago", "5 days ago". */
export function age(fetchedAt: string, now: Date): string {
  const then = Date.parse(fetchedAt);
  if (Number.isNaN(then)) {
    return 'at an unknown time';
  }
  const minutes = Math.max(0, Math.round((now.getTime() - then) / 60000));
  if (minutes < 1) {
    return 'just now';
  }
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 48) {
    return `${hours} h ago`;
  }
  return `${Math.round(hours / 24)} days ago`;
}

export function pickerTitle(target: Target | undefined): string {
  switch (target) {
    case 'completion':
      return 'ardaemon: Select Model (for completions)';
    case 'chat':
      return 'ardaemon: Select Model (for chat)';
    case 'both':
      return 'ardaemon: Select Model (completions and chat)';
    case undefined:
      return 'ardaemon: Select Model';
  }
}

/** What the role step offers once a model is picked, the most common first. */
export function roleChoices(
  model: string,
  selected: Selected,
): { target: Target; label: string; description: string }[] {
  const now = (m: string | null): string => (m === model ? 'already' : `now ${m ?? 'the default'}`);
  return [
    {
      target: 'both',
      label: 'Completions and chat',
      description: `${model} for both`,
    },
    { target: 'completion', label: 'Completions only', description: `ghost text (${now(selected.completion)})` },
    { target: 'chat', label: 'Chat only', description: `chat (${now(selected.chat)})` },
  ];
}

/** The confirmation after a pick, naming the role: "glm-4.6 now answers completions and chat". */
export function pickedMessage(model: string, target: Target): string {
  const role = target === 'both' ? 'completions and chat' : target === 'chat' ? 'chat' : 'completions';
  return `ardaemon: ${model} now answers ${role}.`;
}

/** A line under the title: where the catalog came from, and whether it is stale. */
export function catalogNote(result: ListModelsResult, now: Date): string {
  const when = age(result.fetchedAt, now);
  const count = `${result.models.length} model${result.models.length === 1 ? '' : 's'}`;
  if (result.stale) {
    return `$(warning) Stale catalog (${count}, fetched ${when}; the gateway could not be reached). Pick "Refresh" to try again.`;
  }
  return `${count} from the ${result.source === 'network' ? 'gateway' : 'cache'}, fetched ${when}.`;
}

export function pickEntries(result: ListModelsResult, target: Target | undefined, _now: Date): Entry[] {
  const current = currentFor(result, target);
  const entries: Entry[] = [];
  const groups = new Map<Api, Model[]>();
  for (const model of result.models) {
    const group = groups.get(model.api) ?? [];
    group.push(model);
    groups.set(model.api, group);
  }
  const apis = [
    ...API_ORDER.filter((api) => groups.has(api)),
    ...[...groups.keys()].filter((a) => !API_ORDER.includes(a)),
  ];
  for (const api of apis) {
    entries.push({ kind: 'separator', label: API_TITLES[api] ?? api });
    const models = [...(groups.get(api) ?? [])].sort((a, b) => a.id.localeCompare(b.id));
    for (const model of models) {
      const roles: string[] = [];
      if (result.selected.completion === model.id) {
        roles.push('completions');
      }
      if (result.selected.chat === model.id) {
        roles.push('chat');
      }
      const isCurrent = model.id === current;
      const owner = model.ownedBy ?? model.provider;
      const label = `${isCurrent ? '$(check) ' : ''}${model.id}`;
      const description = [model.name && model.name !== model.id ? model.name : '', owner].filter(Boolean).join(' · ');
      const entry: Entry = { kind: 'model', label, description, model, current: isCurrent };
      if (roles.length > 0) {
        entry.detail = `current for ${roles.join(' and ')}`;
      }
      entries.push(entry);
    }
  }
  entries.push({ kind: 'separator', label: '' });
  entries.push({
    kind: 'refresh',
    label: '$(refresh) Refresh',
    description: result.stale ? 'the catalog is stale: fetch it again' : 'fetch the catalog from the gateway again',
  });
  return entries;
}
