// What the config forms share: the values Codex 0.169 accepts for each knob (the server checks
// the same lists, services/config/src/domain/codex_toml/keys.rs).

/** Choices per field (camelCase, as in the generated messages); '' is "not set". */
export const CHOICES: Record<string, string[]> = {
  modelReasoningEffort: ['', 'none', 'minimal', 'low', 'medium', 'high', 'xhigh'],
  approvalPolicy: ['', 'on-failure', 'on-request', 'never'],
  sandboxMode: ['', 'read-only', 'workspace-write', 'danger-full-access'],
  modelReasoningSummary: ['', 'auto', 'concise', 'detailed', 'none'],
  modelVerbosity: ['', 'low', 'medium', 'high'],
  historyPersistence: ['', 'save-all', 'none'],
};

/** The choices for a select, keeping a stored value the list does not know (so it shows). */
export function choicesWith(key: string, current: string): string[] {
  const list = CHOICES[key] ?? [''];
  return list.includes(current) ? list : [...list, current];
}
