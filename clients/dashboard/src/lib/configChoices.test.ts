import { describe, expect, it } from 'vitest';
import { CHOICES, choicesWith } from './configChoices';

describe('config choices', () => {
  it('offers "not set" first and the values the server accepts', () => {
    expect(CHOICES.approvalPolicy).toEqual(['', 'on-failure', 'on-request', 'never']);
    expect(CHOICES.modelReasoningEffort[0]).toBe('');
  });

  it('keeps a stored value the list does not know, so the select shows it', () => {
    expect(choicesWith('modelVerbosity', 'low')).toEqual(CHOICES.modelVerbosity);
    expect(choicesWith('modelVerbosity', 'loud')).toEqual([...CHOICES.modelVerbosity, 'loud']);
    expect(choicesWith('unknown', '')).toEqual(['']);
  });
});
