import { formatPath, InputError } from '@xlt/plugin-api';
import { z } from 'zod';

/** Options of the `qa` task in an experiment config, with XTREME's defaults. */
export const qaOptionsSchema = z
  .object({
    /** Tokens per window; defaults to the run's `maxLength` (384 in XTREME). */
    maxLength: z.number().int().positive().optional(),
    /** Context tokens between window starts (`doc_stride`). */
    docStride: z.number().int().positive().default(128),
    /** Question tokens kept (`max_query_length`). */
    maxQueryLength: z.number().int().positive().default(64),
    /** Start/end candidates per window when decoding (`n_best_size`). */
    nBest: z.number().int().positive().default(20),
    /** Longest answer in tokens (`max_answer_length`). */
    maxAnswerLength: z.number().int().positive().default(30),
    /**
     * `squad`: the SQuAD v1.1 script; `mlqa`: the MLQA script for the data's language. Default: `mlqa` for MLQA
     * files whose language is known, else `squad`.
     */
    metric: z.enum(['squad', 'mlqa']).optional(),
    /** Read answers with empty text instead of rejecting the file (see `SquadReadOptions.allowEmptyAnswers`). */
    allowEmptyAnswers: z.boolean().default(false),
  })
  .strict();

/** The parsed options of the `qa` task. */
export type QaOptions = z.output<typeof qaOptionsSchema>;

/** Validates task options (the config loader has usually done so already) and fills in the defaults. */
export function parseQaOptions(options: Record<string, unknown>): QaOptions {
  const result = qaOptionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw new InputError(
    result.error.issues.map((i) => ({ path: formatPath(['options', ...i.path]), expected: i.message, found: JSON.stringify((i as { input?: unknown }).input) ?? 'nothing' })),
    'Invalid options for the qa task:',
  );
}
