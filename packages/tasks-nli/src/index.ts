/**
 * `@xlt/tasks-nli`: the natural language inference task for xlt. Reads XNLI (XTREME TSV), AmericasNLI and
 * official XNLI (TSV with a header), SNLI (three line-aligned files) and JSON Lines; HF's BERT and XLM-R
 * sequence-classification heads; accuracy.
 * @packageDocumentation
 */
import { ContainerModule } from 'inversify';
import { TaskPlugin } from '@xlt/plugin-api';
import { nliTask } from './nli-task.js';

export { nliTask, nliOptionsSchema } from './nli-task.js';
export { NLI_LABELS, normalizeLabel, type NliLabel } from './labels.js';
export type { NliExample } from './nli-example.js';
export { featurizeNli, collateNli, type NliFeature } from './nli-feature.js';
export { createNliHead } from './nli-head.js';
export { accuracy } from './accuracy.js';
export { formatNliPredictions, parseNliPredictions } from './predictions.js';
export { NLI_FORMATS, nliFormatOf, readNli } from './read-nli.js';
export { xnliTsvFormat, parseXnliTsv } from './xnli-tsv-reader.js';
export { americasNliTsvFormat, parseAmericasNliTsv } from './americasnli-tsv-reader.js';
export { snliFilesFormat, snliSiblings, readSnliFiles, type SnliFiles } from './snli-files-reader.js';
export { nliJsonlFormat, parseNliJsonl } from './jsonl-reader.js';

/** The container module of this package: binds the `nli` task to the {@link TaskPlugin} extension point. */
export const nliModule = new ContainerModule(({ bind }) => {
  bind<TaskPlugin>(TaskPlugin).toConstantValue(nliTask as TaskPlugin);
});
