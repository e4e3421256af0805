/** The colour of each built-in strategy id, the same in every plot of every report. */
export const STRATEGY_COLOURS: Readonly<Record<string, string>> = {
  last: '#7f7f7f',
  'best-source-dev': '#8c564b',
  'checkpoint-average': '#1f77b4',
  'run-average': '#2ca02c',
  'checkpoint-run-average': '#17becf',
  'greedy-soup': '#9467bd',
  ema: '#bcbd22',
  weighted: '#e377c2',
  'oracle-target-dev': '#d62728',
};

/** Colours for oracles other than `oracle-target-dev`: reds and oranges, apart from every non-oracle colour. */
const ORACLE_EXTRA = ['#ff7f0e', '#a50f15', '#fb6a4a'];
/** Colours for strategies with no fixed colour, and for second entries of one id (ablations). */
const EXTRA = ['#393b79', '#637939', '#8c6d31', '#7b4173', '#3182bd', '#31a354', '#756bb1', '#636363', '#5254a3', '#9c9ede'];

/** A strategy as the colour assignment sees it. */
export interface ColouredStrategy {
  /** The entry's name, which results are keyed by. */
  readonly name: string;
  /** The plugin id (defaults to the name). */
  readonly id?: string;
  readonly oracle: boolean;
}

/**
 * A colour per strategy name: the fixed colour of its id ({@link STRATEGY_COLOURS}) for the first entry of that
 * id, and an unused colour from a fixed list for further entries (ablations) and unknown ids. Oracles always get
 * a red or orange no other strategy uses, so an oracle never shares checkpoint averaging's (or anyone's) colour.
 */
export function strategyColours(strategies: readonly ColouredStrategy[]): Record<string, string> {
  const out: Record<string, string> = {};
  const used = new Set<string>();
  const take = (pool: readonly string[]) => pool.find((c) => !used.has(c)) ?? pool[used.size % pool.length]!;
  for (const s of strategies) {
    const id = s.id ?? s.name;
    const fixed = STRATEGY_COLOURS[id];
    const fits = fixed !== undefined && !used.has(fixed) && (s.oracle ? id === 'oracle-target-dev' : id !== 'oracle-target-dev');
    const colour = fits ? fixed : s.oracle ? take([STRATEGY_COLOURS['oracle-target-dev']!, ...ORACLE_EXTRA]) : take(EXTRA);
    used.add(colour);
    out[s.name] = colour;
  }
  return out;
}
