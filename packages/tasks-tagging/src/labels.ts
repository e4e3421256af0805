/**
 * The 17 Universal POS tags, in the fixed order of the UD documentation (alphabetical), which is also the label
 * order of XTREME's udpos task. A POS head's output `i` means `UPOS_TAGS[i]`.
 */
export const UPOS_TAGS: readonly string[] = Object.freeze([
  'ADJ', 'ADP', 'ADV', 'AUX', 'CCONJ', 'DET', 'INTJ', 'NOUN', 'NUM',
  'PART', 'PRON', 'PROPN', 'PUNCT', 'SCONJ', 'SYM', 'VERB', 'X',
]);

const UPOS_SET: ReadonlySet<string> = new Set(UPOS_TAGS);

/** Whether `tag` is one of the 17 UPOS tags. */
export function isUpos(tag: string): boolean {
  return UPOS_SET.has(tag);
}

const NER_TAG = /^(?:O|[BI]-[^\s]+)$/;

/** Whether `tag` is an IOB tag xlt reads: `O`, `B-TYPE` or `I-TYPE` (TYPE non-empty, no whitespace). */
export function isNerTag(tag: string): boolean {
  return NER_TAG.test(tag);
}

/** The entity type of `B-X` / `I-X` (`X`), or undefined for `O`. */
export function entityType(tag: string): string | undefined {
  return tag === 'O' ? undefined : tag.slice(2);
}

/**
 * The NER label inventory of a training set: `O` first, then `B-X`, `I-X` for every entity type `X` seen in
 * the tags, types sorted by code unit (so the order depends only on the set of types, not on the file order).
 * Both tags of a type are included even when only one occurs, so that a head can predict every well-formed tag.
 */
export function nerLabelSpace(tagSequences: Iterable<readonly string[]>): string[] {
  const types = new Set<string>();
  for (const tags of tagSequences) {
    for (const tag of tags) {
      const type = entityType(tag);
      if (type !== undefined) types.add(type);
    }
  }
  const labels = ['O'];
  for (const type of [...types].sort()) labels.push(`B-${type}`, `I-${type}`);
  return labels;
}
