// V8 block coverage as libFuzzer 8-bit counters. A same-thread inspector session answers `post` synchronously
// (checked below), so coverage can be taken after every input without leaving libFuzzer's loop.
import { Session } from 'node:inspector';

/**
 * Starts precise block coverage and returns `collect()`, which writes the blocks run since the previous call into
 * `counters`, for scripts whose URL passes `include`.
 *
 * V8 drops a block whose count equals its parent's, so "branch taken" often shows up only as a *missing* 0-count
 * range. Counting the reported ranges alone would make taking a branch look like no progress; instead every range
 * ever reported is remembered per function, and its count is that of the innermost range reported now that
 * contains it. A block therefore turns its counter on the first time it runs after having been seen not to.
 */
export function startCoverage(counters, include) {
  const session = new Session();
  session.connect();
  const post = (method, params) => {
    let done = false;
    let error;
    let result;
    session.post(method, params, (e, r) => {
      done = true;
      error = e;
      result = r;
    });
    if (!done) throw new Error(`inspector ${method} did not answer synchronously; this driver needs it to`);
    if (error) throw error;
    return result;
  };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });

  const size = counters.length;
  const functions = new Map(); // `${url} ${start}` -> known ranges of that function, with their counter index
  let touched = [];

  const collect = () => {
    // libFuzzer clears its counters before each input too; this keeps standalone use (replays) honest.
    for (const i of touched) counters[i] = 0;
    touched = [];
    for (const script of post('Profiler.takePreciseCoverage').result) {
      if (!include(script.url)) continue;
      for (const fn of script.functions) {
        const ranges = fn.ranges;
        if (ranges.length === 0 || ranges[0].count === 0) continue;
        const key = `${script.url} ${ranges[0].startOffset}`;
        let known = functions.get(key);
        if (!known) functions.set(key, (known = new Map()));
        for (const r of ranges) {
          const id = r.startOffset * 0x100000 + r.endOffset;
          if (!known.has(id)) known.set(id, { start: r.startOffset, end: r.endOffset, index: hash(key, id) % size });
        }
        for (const k of known.values()) {
          let count = 0;
          let width = Infinity;
          for (const r of ranges) {
            if (r.startOffset <= k.start && k.end <= r.endOffset && r.endOffset - r.startOffset < width) {
              width = r.endOffset - r.startOffset;
              count = r.count;
            }
          }
          if (count > 0) {
            if (counters[k.index] === 0) touched.push(k.index);
            counters[k.index] = Math.min(255, Math.max(counters[k.index], count));
          }
        }
      }
    }
  };
  collect(); // drop the counts of module loading
  return { collect, stop: () => session.disconnect() };
}

/** FNV-1a over the function key and range id: stable across runs, so corpora stay meaningful. */
function hash(key, id) {
  let h = 0x811c9dc5;
  const s = `${key} ${id}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
