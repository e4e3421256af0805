import { describe, expect, it } from 'vitest';
import { getEntities, getStrictIob2Entities, seqevalScores, tagAccuracy } from './seqeval.js';

// Every expected value below was worked out by hand from seqeval 1.2.2's algorithm (sequence_labeling.get_entities
// with end_of_chunk/start_of_chunk; scheme.Tokens.entities with IOB2's patterns; _prf_divide with 0 for 0/0).
const e = (type: string, start: number, end: number) => ({ type, start, end });

describe('getEntities (seqeval default mode)', () => {
  it('reads clean IOB2', () => {
    expect(getEntities(['B-PER', 'I-PER', 'O', 'B-LOC'])).toEqual([e('PER', 0, 1), e('LOC', 3, 3)]);
  });

  it('opens an entity at an I- after O and at the start of a sequence', () => {
    expect(getEntities(['O', 'I-PER', 'I-PER', 'O'])).toEqual([e('PER', 1, 2)]);
    expect(getEntities(['I-DATE', 'I-DATE', 'O'])).toEqual([e('DATE', 0, 1)]);
  });

  it('splits a chunk where the type changes inside it', () => {
    expect(getEntities(['B-PER', 'I-LOC', 'I-LOC', 'O'])).toEqual([e('PER', 0, 0), e('LOC', 1, 2)]);
  });

  it('keeps adjacent entities of the same type apart at each B-', () => {
    expect(getEntities(['B-PER', 'B-PER', 'I-PER'])).toEqual([e('PER', 0, 0), e('PER', 1, 2)]);
  });

  it('reads IOB1-style runs (I- chunks broken by B- of the same type)', () => {
    expect(getEntities(['I-PER', 'I-PER', 'B-PER', 'I-PER'])).toEqual([e('PER', 0, 1), e('PER', 2, 3)]);
  });

  it('reads IOBES as seqeval does', () => {
    expect(getEntities(['S-PER', 'B-LOC', 'E-LOC', 'O'])).toEqual([e('PER', 0, 0), e('LOC', 1, 2)]);
  });

  it('joins sentences with an O, so offsets run on and an I- opening sentence 2 is a new entity', () => {
    expect(getEntities([['B-PER', 'I-PER'], ['I-PER', 'O']])).toEqual([e('PER', 0, 1), e('PER', 3, 3)]);
  });

  it('keeps everything after the first dash as the type, in any script', () => {
    expect(getEntities(['B-LOC-CITY', 'I-LOC-CITY', 'B-地名'])).toEqual([e('LOC-CITY', 0, 1), e('地名', 2, 2)]);
  });

  it('finds nothing in all-O and in empty input', () => {
    expect(getEntities(['O', 'O'])).toEqual([]);
    expect(getEntities([])).toEqual([]);
  });
});

describe('getStrictIob2Entities (seqeval mode=strict, scheme=IOB2)', () => {
  it('ignores an I- with no B- before it', () => {
    expect(getStrictIob2Entities(['O', 'I-PER', 'I-PER', 'O'])).toEqual([]);
    expect(getStrictIob2Entities(['I-DATE', 'B-DATE', 'I-DATE'])).toEqual([e('DATE', 1, 2)]);
  });

  it('ends an entity where the type changes, and does not start one at the I- of the new type', () => {
    expect(getStrictIob2Entities(['B-PER', 'I-LOC', 'I-LOC', 'O'])).toEqual([e('PER', 0, 0)]);
  });

  it('handles an inner B- of another type inside a chunk', () => {
    expect(getStrictIob2Entities(['B-ORG', 'B-LOC', 'I-ORG'])).toEqual([e('ORG', 0, 0), e('LOC', 1, 1)]);
    expect(getEntities(['B-ORG', 'B-LOC', 'I-ORG'])).toEqual([e('ORG', 0, 0), e('LOC', 1, 1), e('ORG', 2, 2)]);
  });

  it('reads adjacent entities and entities at the end', () => {
    expect(getStrictIob2Entities(['B-PER', 'B-PER', 'I-PER'])).toEqual([e('PER', 0, 0), e('PER', 1, 2)]);
  });

  it('rejects prefixes other than B, I, O as seqeval does', () => {
    expect(() => getStrictIob2Entities(['S-PER'])).toThrow(/Invalid token is found: S-PER/);
  });
});

describe('seqevalScores', () => {
  it("matches seqeval's README example (f1 0.5; MISC 0, PER 1)", () => {
    const gold = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const pred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const s = seqevalScores(gold, pred);
    expect([s.precision, s.recall, s.f1]).toEqual([0.5, 0.5, 0.5]);
    expect(s.perType['MISC']).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(s.perType['PER']).toMatchObject({ precision: 1, recall: 1, f1: 1, support: 1 });
  });

  it('pools counts over types (micro) and gives 0 where a per-type denominator is 0', () => {
    // gold PER(0,1) LOC(3,3) ORG(5,5); pred PER(0,1) LOC(3,3) LOC(4,4) MISC(5,5): 2 correct of 4 predicted, 3 gold
    const gold = [['B-PER', 'I-PER', 'O', 'B-LOC', 'O', 'B-ORG']];
    const pred = [['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC', 'B-MISC']];
    const s = seqevalScores(gold, pred);
    expect(s.precision).toBe(0.5);
    expect(s.recall).toBe(2 / 3);
    expect(s.f1).toBe((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3));
    expect(s.f1).toBeCloseTo(4 / 7, 15);
    expect(Object.keys(s.perType)).toEqual(['LOC', 'MISC', 'ORG', 'PER']);
    expect(s.perType['LOC']).toMatchObject({ precision: 0.5, recall: 1, correct: 1, predicted: 2, support: 1 });
    expect(s.perType['LOC']!.f1).toBeCloseTo(2 / 3, 15);
    expect(s.perType['MISC']).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0, predicted: 1 });
    expect(s.perType['ORG']).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1, predicted: 0 });
  });

  it('scores an I- after O as an entity by default but not in strict mode', () => {
    const gold = [['O', 'I-PER', 'I-PER', 'O']];
    const pred = [['O', 'B-PER', 'I-PER', 'O']];
    expect(seqevalScores(gold, pred).f1).toBe(1);
    const strict = seqevalScores(gold, pred, 'strict');
    expect([strict.precision, strict.recall, strict.f1, strict.support, strict.predicted]).toEqual([0, 0, 0, 0, 1]);
  });

  it('differs between modes on a type change inside a chunk', () => {
    const gold = [['B-PER', 'I-PER', 'I-PER', 'O']];
    const pred = [['B-PER', 'I-LOC', 'I-LOC', 'O']];
    // default: pred PER(0,0) + LOC(1,2), gold PER(0,2): 0 correct of 2, 1 gold
    expect(seqevalScores(gold, pred)).toMatchObject({ correct: 0, predicted: 2, support: 1, f1: 0 });
    // strict: pred PER(0,0) only
    expect(seqevalScores(gold, pred, 'strict')).toMatchObject({ correct: 0, predicted: 1, support: 1, f1: 0 });
  });

  it('needs exact boundaries: a partial overlap scores nothing', () => {
    const s = seqevalScores([['B-ORG', 'I-ORG', 'I-ORG']], [['B-ORG', 'I-ORG', 'O']]);
    expect([s.correct, s.precision, s.recall, s.f1]).toEqual([0, 0, 0, 0]);
  });

  it('treats the same span in different sentences as different entities', () => {
    const gold = [['B-PER'], ['B-PER']];
    const pred = [['B-PER'], ['O']];
    expect(seqevalScores(gold, pred)).toMatchObject({ precision: 1, recall: 0.5, correct: 1 });
    expect(seqevalScores(gold, pred, 'strict')).toMatchObject({ precision: 1, recall: 0.5, correct: 1 });
  });

  it('gives 0, not NaN, for empty predictions and for data without entities', () => {
    const empty = seqevalScores([['B-PER', 'O', 'B-LOC']], [['O', 'O', 'O']]);
    expect([empty.precision, empty.recall, empty.f1]).toEqual([0, 0, 0]);
    expect(Object.keys(empty.perType)).toEqual(['LOC', 'PER']);
    const noGold = seqevalScores([['O', 'O']], [['B-PER', 'O']]);
    expect([noGold.precision, noGold.recall, noGold.f1]).toEqual([0, 0, 0]);
    const nothing = seqevalScores([['O']], [['O']]);
    expect([nothing.precision, nothing.recall, nothing.f1, Object.keys(nothing.perType).length]).toEqual([0, 0, 0, 0]);
    expect(seqevalScores([], []).f1).toBe(0);
  });

  it('scores gold against itself as 1 in both modes, whatever the IOB flavour', () => {
    const gold = [['I-DATE', 'O', 'B-PER', 'I-LOC'], ['B-ORG', 'B-ORG', 'I-ORG']];
    expect(seqevalScores(gold, gold).f1).toBe(1);
    expect(seqevalScores(gold, gold, 'strict').f1).toBe(1);
  });
});

describe('tagAccuracy', () => {
  it('counts matching tags over all words', () => {
    expect(tagAccuracy([['A', 'B'], ['C']], [['A', 'X'], ['C']])).toBe(2 / 3);
    expect(tagAccuracy([], [])).toBe(0);
  });
});
