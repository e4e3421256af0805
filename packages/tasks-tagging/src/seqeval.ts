import { XltError } from '@xlt/plugin-api';

/**
 * Entity-level NER scores computed exactly as Python's `seqeval` (v1.2.2) computes them, so xlt's numbers can be
 * put beside published ones. Two modes:
 *
 * - `default` is seqeval's default (conlleval-like) mode: `get_entities` over the sentences joined with an `O`
 *   between them. An `I-X` after `O`, at the start of a sentence, or after a tag of another type opens an entity.
 * - `strict` is `mode='strict', scheme=IOB2`: an entity is a `B-X` followed by `I-X`s; an `I-` that does not
 *   continue a `B-`/`I-` of its own type is not part of any entity.
 *
 * Micro precision / recall / F1 pool the true positives over every type; a type counts when it occurs in the gold
 * or the predictions. Where a denominator is 0 the value is 0, as seqeval's `zero_division='warn'` returns.
 * Values here are fractions in [0, 1], like seqeval's; the tasks report them in percent.
 */

/** One entity: its type and its first and last word (inclusive), counted over the joined sequence. */
export interface Entity {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** Precision, recall and F1 of one type or of all (micro), with the counts behind them. */
export interface PrfScore {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Number of gold entities. */
  readonly support: number;
  /** Number of predicted entities. */
  readonly predicted: number;
  /** Number of predicted entities that match a gold one exactly (type, start, end). */
  readonly correct: number;
}

/** Micro scores plus one {@link PrfScore} per entity type (gold ∪ predicted types, sorted). */
export interface SeqevalScores extends PrfScore {
  readonly perType: Readonly<Record<string, PrfScore>>;
}

/** Which of seqeval's evaluation modes to reproduce. */
export type SeqevalMode = 'default' | 'strict';

function splitChunk(chunk: string): { tag: string; type: string } {
  // seqeval: tag = chunk[0]; type = chunk[1:].split('-', maxsplit=1)[-1] or '_'
  const tag = chunk.charAt(0);
  const rest = chunk.slice(1);
  const dash = rest.indexOf('-');
  const type = (dash >= 0 ? rest.slice(dash + 1) : rest) || '_';
  return { tag, type };
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/**
 * seqeval's `get_entities` (prefix tags): the entities of one tag sequence, or of several sentences joined with an
 * `O` after each (offsets then count over the joined sequence, as in seqeval). Accepts IOB1, IOB2 and IOBES input
 * the way seqeval does.
 */
export function getEntities(sequence: readonly string[] | readonly (readonly string[])[]): Entity[] {
  const seq: string[] = [];
  if (sequence.some((s) => Array.isArray(s))) {
    for (const sentence of sequence as readonly (readonly string[])[]) seq.push(...sentence, 'O');
  } else {
    seq.push(...(sequence as readonly string[]));
  }
  seq.push('O');
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  const chunks: Entity[] = [];
  for (let i = 0; i < seq.length; i++) {
    const { tag, type } = splitChunk(seq[i]!);
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push({ type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return chunks;
}

interface SchemeToken {
  readonly prefix: string;
  readonly tag: string;
}

function schemeToken(token: string): SchemeToken {
  // seqeval.scheme.Token: prefix = token[0]; tag = token[1:].strip('-') or '_'
  return { prefix: token.charAt(0), tag: token.slice(1).replace(/^-+|-+$/g, '') || '_' };
}

/**
 * The entities of one sentence under seqeval's strict IOB2 scheme (`seqeval.scheme.IOB2` with `Tokens.entities`):
 * a `B-X` and the `I-X`s that follow it. `end` is inclusive here (seqeval stores it exclusive).
 * Throws when a tag's prefix is not B, I or O, as seqeval does.
 */
export function getStrictIob2Entities(sentence: readonly string[]): Entity[] {
  const tokens = sentence.map(schemeToken);
  for (let i = 0; i < tokens.length; i++) {
    if (!'BIO'.includes(tokens[i]!.prefix) || tokens[i]!.prefix === '') {
      // Gold or predicted tags come from the user's data and labels: a user error (seqeval's own message).
      throw new XltError(`Invalid token is found: ${sentence[i]}. Allowed prefixes are: I|O|B.`);
    }
  }
  const outside: SchemeToken = { prefix: 'O', tag: '_' };
  const extended = [...tokens, outside];
  const isInside = (token: SchemeToken, prev: SchemeToken) =>
    (prev.prefix === 'B' || prev.prefix === 'I') && token.prefix === 'I' && prev.tag === token.tag;
  const isEnd = (token: SchemeToken, prev: SchemeToken) =>
    (prev.prefix === 'I' || prev.prefix === 'B') &&
    (token.prefix === 'O' || token.prefix === 'B' || (token.prefix === 'I' && prev.tag !== token.tag));
  const entities: Entity[] = [];
  let i = 0;
  while (i < extended.length) {
    const token = extended[i]!;
    if (token.prefix === 'B') {
      let end = i + 1;
      let prev = token;
      while (end < extended.length && isInside(extended[end]!, prev)) prev = extended[end++]!;
      if (isEnd(extended[end]!, extended[end - 1]!)) entities.push({ type: token.tag, start: i, end: end - 1 });
      i = end;
    } else {
      i += 1;
    }
  }
  return entities;
}

function prf(correct: number, predicted: number, support: number): PrfScore {
  const precision = predicted === 0 ? 0 : correct / predicted;
  const recall = support === 0 ? 0 : correct / support;
  // numpy: (1 + beta2) * precision * recall / denom, denom = beta2 * precision + recall (1 where 0)
  const denom = precision + recall;
  const f1 = (2 * precision * recall) / (denom === 0 ? 1 : denom);
  return { precision, recall, f1, support, predicted, correct };
}

function byType(entities: Iterable<Entity & { sentence?: number }>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of entities) {
    let set = out.get(e.type);
    if (!set) out.set(e.type, (set = new Set()));
    set.add(`${e.sentence ?? 0}:${e.start}:${e.end}`);
  }
  return out;
}

function strictEntities(sentences: readonly (readonly string[])[]): (Entity & { sentence: number })[] {
  const out: (Entity & { sentence: number })[] = [];
  sentences.forEach((s, k) => {
    for (const e of getStrictIob2Entities(s)) out.push({ ...e, sentence: k });
  });
  return out;
}

/**
 * seqeval's `precision_score`, `recall_score`, `f1_score` (micro) and `classification_report`'s per-type rows,
 * for sentences of gold and predicted tags. Both lists must have the same shape (checked by the caller).
 */
export function seqevalScores(
  gold: readonly (readonly string[])[],
  predicted: readonly (readonly string[])[],
  mode: SeqevalMode = 'default',
): SeqevalScores {
  const extract = (x: readonly (readonly string[])[]) =>
    mode === 'strict' ? strictEntities(x) : getEntities(x.length === 0 ? [] : ([...x] as string[][]));
  const trueByType = byType(extract(gold));
  const predByType = byType(extract(predicted));
  const types = [...new Set([...trueByType.keys(), ...predByType.keys()])].sort();
  const perType: Record<string, PrfScore> = {};
  let correct = 0;
  let predictedCount = 0;
  let support = 0;
  for (const type of types) {
    const t = trueByType.get(type) ?? new Set<string>();
    const p = predByType.get(type) ?? new Set<string>();
    let tp = 0;
    for (const key of p) if (t.has(key)) tp++;
    perType[type] = prf(tp, p.size, t.size);
    correct += tp;
    predictedCount += p.size;
    support += t.size;
  }
  return { ...prf(correct, predictedCount, support), perType };
}

/** seqeval's `accuracy_score`: the fraction of tags equal to the gold tag, over all words. 0 when there are none. */
export function tagAccuracy(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[]): number {
  let total = 0;
  let right = 0;
  gold.forEach((g, k) => {
    const p = predicted[k]!;
    for (let i = 0; i < g.length; i++) {
      total++;
      if (g[i] === p[i]) right++;
    }
  });
  return total === 0 ? 0 : right / total;
}
