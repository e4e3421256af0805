import { XltError } from '@xlt/plugin-api';

/** Accuracy in percent, as XNLI papers report it: `100 * correct / total`. */
export function accuracy(gold: readonly string[], predicted: readonly string[]): number {
  if (gold.length !== predicted.length) {
    throw new XltError(`Cannot score ${predicted.length} predictions against ${gold.length} gold labels: the counts must match.`);
  }
  if (gold.length === 0) throw new XltError('Cannot score an empty data set: accuracy over no examples is undefined.');
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === predicted[i]) correct++;
  return (100 * correct) / gold.length;
}
