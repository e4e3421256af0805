import { XltError, type EncoderRuntime, type NamedTensors, SafetensorsFile, SAFETENSORS_FILE } from '@xlt/plugin-api';
import { join } from 'node:path';
import { TRAINER_STATE_FILE } from './checkpoint-folder.js';
import type { HeadParameters } from './head-pass.js';

/** Format tag of `trainer_state.safetensors`. */
export const TRAINER_STATE_FORMAT = 'xlt-trainer-state/1';

/** The position of a run, stored as metadata of the state file. */
export interface RunPosition {
  readonly step: number;
  readonly epoch: number;
  /** Features of the epoch's shuffled order already consumed. */
  readonly epochPosition: number;
}

/** The tensors of the state file: AdamW moments of the encoder and the head. */
export function stateTensors(runtime: EncoderRuntime, headM: HeadParameters, headV: HeadParameters, headShapes: Readonly<Record<string, readonly number[]>>): NamedTensors {
  const out: NamedTensors = new Map();
  const { m, v } = runtime.optimizerState();
  for (const [name, t] of m) out.set(`encoder.exp_avg.${name}`, t);
  for (const [name, t] of v) out.set(`encoder.exp_avg_sq.${name}`, t);
  for (const name of Object.keys(headShapes)) {
    out.set(`head.exp_avg.${name}`, { shape: headShapes[name]!, data: headM[name]! });
    out.set(`head.exp_avg_sq.${name}`, { shape: headShapes[name]!, data: headV[name]! });
  }
  return out;
}

/** Metadata of the state file. `fingerprint` holds what must not change between a run and its resumption. */
export function stateMetadata(position: RunPosition, seed: number, totalSteps: number, fingerprint: string): Record<string, string> {
  return {
    format: TRAINER_STATE_FORMAT,
    step: String(position.step),
    epoch: String(position.epoch),
    epoch_position: String(position.epochPosition),
    total_steps: String(totalSteps),
    // Every random draw is derived from the seed and its place (epoch, step, micro-batch): that is the whole RNG state.
    rng: `derived seed=${seed}`,
    fingerprint,
  };
}

/** A checkpoint read back for resuming. */
export interface ResumedState {
  readonly position: RunPosition;
  readonly head: HeadParameters;
  readonly headM: HeadParameters;
  readonly headV: HeadParameters;
}

/**
 * Loads a checkpoint folder into the runtime (parameters and AdamW moments) and returns the head's parameters and
 * moments and the run's position. Refuses a checkpoint of a run with other hyperparameters.
 */
export async function loadResumeState(
  folder: string,
  runtime: EncoderRuntime,
  headShapes: Readonly<Record<string, readonly number[]>>,
  fingerprint: string,
): Promise<ResumedState> {
  const stateFile = join(folder, TRAINER_STATE_FILE);
  const state = await SafetensorsFile.open(stateFile);
  const model = await SafetensorsFile.open(join(folder, SAFETENSORS_FILE));
  try {
    const meta = state.metadata;
    if (meta.format !== TRAINER_STATE_FORMAT) {
      throw new XltError(`${stateFile}: expected a trainer state of format ${TRAINER_STATE_FORMAT}, found ${JSON.stringify(meta.format ?? null)}.`);
    }
    if (meta.fingerprint !== fingerprint) {
      throw new XltError(
        `${stateFile}: cannot resume: the run was started with other settings.\n  saved:   ${meta.fingerprint}\n  current: ${fingerprint}\n` +
          'Use another run folder, or the same settings, to continue.',
      );
    }
    const read = async (file: SafetensorsFile, name: string, shape: readonly number[]) => {
      if (!file.tensors.has(name)) throw new XltError(`${file.path}: the tensor ${name} is missing.`);
      return { shape, data: await file.readFloat32(name) };
    };
    const params: NamedTensors = new Map();
    const m: NamedTensors = new Map();
    const v: NamedTensors = new Map();
    for (const [name, t] of runtime.parameters()) {
      params.set(name, await read(model, name, t.shape));
      m.set(name, await read(state, `encoder.exp_avg.${name}`, t.shape));
      v.set(name, await read(state, `encoder.exp_avg_sq.${name}`, t.shape));
    }
    runtime.load(params, { m, v });
    const head: HeadParameters = {};
    const headM: HeadParameters = {};
    const headV: HeadParameters = {};
    for (const [name, shape] of Object.entries(headShapes)) {
      head[name] = (await read(model, name, shape)).data;
      headM[name] = (await read(state, `head.exp_avg.${name}`, shape)).data;
      headV[name] = (await read(state, `head.exp_avg_sq.${name}`, shape)).data;
    }
    const position = { step: Number(meta.step), epoch: Number(meta.epoch), epochPosition: Number(meta.epoch_position) };
    if (!Object.values(position).every(Number.isInteger)) {
      throw new XltError(`${stateFile}: step, epoch and epoch_position must be integers, found ${JSON.stringify(position)}.`);
    }
    return { position, head, headM, headV };
  } finally {
    await state.close();
    await model.close();
  }
}
