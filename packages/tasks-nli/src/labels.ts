/**
 * The NLI labels in their fixed order, which is also Hugging Face's (`0` entailment, `1` neutral,
 * `2` contradiction, as in the `xnli`, `multi_nli` and `snli` datasets): head output `i` means `NLI_LABELS[i]`.
 */
export const NLI_LABELS: readonly string[] = Object.freeze(['entailment', 'neutral', 'contradiction']);

/** An NLI label. */
export type NliLabel = 'entailment' | 'neutral' | 'contradiction';

const SPELLINGS: ReadonlyMap<string, NliLabel> = new Map([
  ['entailment', 'entailment'],
  ['neutral', 'neutral'],
  ['contradiction', 'contradiction'],
  // The original XNLI files spell it so.
  ['contradictory', 'contradiction'],
  ['0', 'entailment'],
  ['1', 'neutral'],
  ['2', 'contradiction'],
]);

/** What a label may look like, for error messages. */
export const LABEL_SPELLINGS =
  'an NLI label (entailment, neutral, contradiction or contradictory in any case, or 0/1/2 in that order)';

/**
 * The canonical label of a raw label: any case, surrounding spaces ignored, `contradictory` for contradiction,
 * or the numbers 0/1/2 (HF order). `undefined` when it is none of these.
 */
export function normalizeLabel(raw: unknown): NliLabel | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) ? SPELLINGS.get(String(raw)) : undefined;
  if (typeof raw !== 'string') return undefined;
  return SPELLINGS.get(raw.trim().toLowerCase());
}
