import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type EncoderConfig,
  type NamedTensors,
  type TaskHead,
  SAFETENSORS_FILE,
  writeSafetensors,
  type TensorToWrite,
  writeFileAtomic,
} from '@xlt/plugin-api';

/** File of the resumable training state inside a checkpoint folder. */
export const TRAINER_STATE_FILE = 'trainer_state.safetensors';

/** Tokenizer files copied into checkpoints, so that each one is a complete HF model folder. */
const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'sentencepiece.bpe.model'];

/** What one checkpoint folder holds. */
export interface CheckpointContents {
  readonly config: EncoderConfig;
  /** Encoder parameters by HF name (with the `bert.` / `roberta.` prefix). */
  readonly encoder: NamedTensors;
  /** Head parameters by HF name. */
  readonly head: NamedTensors;
  /**
   * Label inventory, written as `id2label` / `label2id` in `config.json` (`num_labels` follows from them). An empty
   * one (extractive QA) removes those fields, so that `transformers` gives the span head its default 2 outputs.
   */
  readonly labels?: readonly string[];
  /** HF class name written as `architectures` (see {@link taskArchitecture}); the config's own is kept when absent. */
  readonly architecture?: string;
  /** `__metadata__` of `model.safetensors` (strings only). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors and metadata of the resumable state; omitted when not given. */
  readonly state?: { readonly tensors: NamedTensors; readonly metadata: Readonly<Record<string, string>> };
  /** Folder whose tokenizer files are copied in. */
  readonly tokenizerFolder?: string;
}

/**
 * The HF class of a fine-tuned model, `BertForSequenceClassification` say: the encoder's class prefix (set by its
 * provider) and the head's {@link TaskHead.architectureSuffix}. Undefined when either is unknown.
 */
export function taskArchitecture(config: EncoderConfig, head: Pick<TaskHead, 'architectureSuffix'>): string | undefined {
  const prefix = config.architecture?.classPrefix;
  return prefix && head.architectureSuffix ? prefix + head.architectureSuffix : undefined;
}

/**
 * `config.json` of a fine-tuned folder: the encoder's fields as read, with `architectures` and the label
 * inventory of the task model, so that `AutoModelFor*` / `pipeline` load it as what it is.
 */
export function taskModelConfig(
  config: EncoderConfig,
  task: { readonly architecture?: string; readonly labels?: readonly string[] },
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config.raw };
  if (task.architecture) out.architectures = [task.architecture];
  if (task.labels) {
    // A count inherited from the pretrained config would contradict id2label (transformers warns and keeps id2label).
    delete out.num_labels;
    delete out._num_labels;
    delete out.id2label;
    delete out.label2id;
    if (task.labels.length > 0) {
      out.id2label = Object.fromEntries(task.labels.map((label, i) => [String(i), label]));
      out.label2id = Object.fromEntries(task.labels.map((label, i) => [label, i]));
    }
  }
  return out;
}

/** `checkpoint-<step>` inside the run folder, as HF's `Trainer` names them. */
export function checkpointFolder(runDir: string, step: number): string {
  return join(runDir, `checkpoint-${step}`);
}

/**
 * Writes `<runDir>/checkpoint-<step>/` (an HF model folder: `config.json`, `model.safetensors` with metadata,
 * tokenizer files, and optionally `trainer_state.safetensors`). Everything is written into a hidden temporary
 * folder that is renamed at the end, so a folder named `checkpoint-<step>` is always complete.
 */
export async function writeCheckpointFolder(runDir: string, step: number, contents: CheckpointContents): Promise<string> {
  await mkdir(runDir, { recursive: true });
  const target = checkpointFolder(runDir, step);
  // mkdir, not mkdtemp: mkdtemp's 0700 would survive the rename and lock other users of a shared folder out.
  const tmp = join(runDir, `.checkpoint-${step}.partial-${randomBytes(6).toString('hex')}`);
  await mkdir(tmp);
  try {
    const config = taskModelConfig(contents.config, contents);
    await writeFileAtomic(join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    // `format: pt` is what transformers checks before loading a safetensors checkpoint.
    await writeSafetensors(join(tmp, SAFETENSORS_FILE), [...toWrite(contents.encoder), ...toWrite(contents.head)], {
      format: 'pt',
      ...contents.metadata,
    });
    if (contents.state) await writeSafetensors(join(tmp, TRAINER_STATE_FILE), toWrite(contents.state.tensors), contents.state.metadata);
    if (contents.tokenizerFolder) {
      for (const file of TOKENIZER_FILES) {
        const source = join(contents.tokenizerFolder, file);
        if (existsSync(source)) await copyFile(source, join(tmp, file));
      }
    }
    // A leftover from a run that died after this very step (then resumed from an older checkpoint) is replaced.
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return target;
}

/** Complete checkpoint folders of a run (named `checkpoint-<step>` with a `model.safetensors`), by step. */
export async function listCheckpoints(runDir: string): Promise<{ step: number; path: string; hasState: boolean }[]> {
  if (!existsSync(runDir)) return [];
  const out: { step: number; path: string; hasState: boolean }[] = [];
  for (const name of await readdir(runDir)) {
    const match = /^checkpoint-(\d+)$/.exec(name);
    if (!match) continue;
    const path = join(runDir, name);
    if (!existsSync(join(path, SAFETENSORS_FILE))) continue;
    out.push({ step: Number(match[1]), path, hasState: existsSync(join(path, TRAINER_STATE_FILE)) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** Removes the temporary folders of checkpoints that were being written when a run died. */
export async function removePartialCheckpoints(runDir: string): Promise<void> {
  if (!existsSync(runDir)) return;
  for (const name of await readdir(runDir)) {
    if (/^\.checkpoint-\d+\.partial-/.test(name)) await rm(join(runDir, name), { recursive: true, force: true });
  }
}

function toWrite(tensors: NamedTensors): TensorToWrite[] {
  return [...tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data }));
}
