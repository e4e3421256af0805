import { InputError, zodIssues } from '@xlt/plugin-api';
import { z } from 'zod';

const shape = {
  /**
   * Train on every sub-word of a word (all get the word's label), as the averaging paper's code does. Default
   * false: only the first sub-word carries the label (HF's `run_ner.py`), the others are ignored (-100).
   * Decoding always reads the first sub-word.
   */
  labelAllSubwords: z.boolean().default(false),
  /**
   * Tag predicted for a word none of whose sub-words fits in the window (`maxLength`). Default `O` for NER
   * (no entity: the safe choice for precision) and `NOUN` for POS (the most frequent UPOS in EWT and in every PUD
   * test set).
   */
  truncatedTag: z.string().min(1).optional(),
  /** NER readers: `auto` strips WikiANN's `en:` prefixes when every token has the same one. */
  languagePrefix: z.enum(['auto', 'strip', 'keep']).default('auto'),
};

/**
 * Options of the `pos` and `ner` tasks, as written in an experiment config under `task.options`. Strict, so that the
 * config loader reports a misspelt key with its line.
 */
export const taggingOptionsSchema = z.strictObject(shape);

// At run time the options may also carry keys of the trainer or of core; only the tagging keys are checked.
const runtimeSchema = z.object(shape);

/** Parsed {@link taggingOptionsSchema}. */
export type TaggingOptions = z.output<typeof taggingOptionsSchema>;

/** Validates task options (raw from a config or a caller), filling defaults; bad options are an {@link InputError}. */
export function parseTaggingOptions(options: Record<string, unknown> | undefined): TaggingOptions {
  const result = runtimeSchema.safeParse(options ?? {}, { reportInput: true });
  if (!result.success) {
    throw new InputError(zodIssues(result.error.issues, ['options'], () => ({})), 'Invalid options of a tagging task:');
  }
  return result.data;
}
