// Fuzz target: the located JSON/YAML config parser of @xlt/plugin-api (parseLocated), which reads every experiment
// config. Property: it returns a document whose locate() answers for any path, or throws an InputError that names
// the file. Anything else (a TypeError, a RangeError, yaml's own errors leaking out) is a crash.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../../../packages/plugin-api/', import.meta.url));
// Direct dist modules, as in safetensors-header.mjs: fewer scripts make each coverage snapshot cheaper.
const { parseLocated } = await import(join(pkg, 'dist/config/document.js'));
const { InputError } = await import(join(pkg, 'dist/errors.js'));
const yaml = dirname(createRequire(join(pkg, 'package.json')).resolve('yaml'));

/** Files whose V8 block coverage guides the fuzzer: our wrapper and the yaml parser under it. */
export const coverage = [join(pkg, 'dist/config/'), join(pkg, 'dist/errors.js'), yaml + '/'];

const FILE = 'fuzz-config.yaml';

export function fuzz(data) {
  let doc;
  try {
    doc = parseLocated(data.toString('utf8'), FILE);
  } catch (error) {
    if (error instanceof InputError && error.message.includes(FILE)) return;
    throw error;
  }
  if (doc.file !== FILE) throw new Error(`invariant violated: document of ${doc.file}`);
  // locate() serves error messages for paths the config schema complains about, existing or not.
  for (const path of [[], ...paths(doc.value, [], 0), ['missing', 0, 'x']]) {
    const { line, column } = doc.locate(path);
    if ((line !== undefined && !(line >= 1)) || (column !== undefined && !(column >= 1))) {
      throw new Error(`invariant violated: locate(${JSON.stringify(path)}) = ${line}:${column}`);
    }
  }
}

/** A few paths into the parsed value (first keys and indices, a few levels deep). */
function paths(value, prefix, depth) {
  if (depth > 4 || value === null || typeof value !== 'object') return [];
  const keys = Array.isArray(value) ? value.keys() : Object.keys(value);
  const out = [];
  for (const k of [...keys].slice(0, 3)) out.push([...prefix, k], ...paths(value[k], [...prefix, k], depth + 1));
  return out;
}

export function seeds() {
  return {
    'json': '{"name": "xnli-zs", "task": "nli", "grid": {"learningRates": [2e-5, 3e-5], "seeds": [1, 2, 3]}}',
    'yaml': 'name: tagging\ntask: ner\nstrategies:\n  - last\n  - id: checkpoint-average\n    name: ca-last3\n    options: { lastK: 3 }\n',
    'anchors': 'base: &b {lr: 1e-5, epochs: 2}\nruns:\n  - *b\n  - <<: *b\n    lr: 2e-5\n',
    'multi-doc': 'a: 1\n---\nb: 2\n',
    'block-scalars': 'note: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n',
    'tags-and-flow': '!!map {? complex key : [1, !!str 2, ~, .inf, 0x1F, 2001-12-14]}\n',
    'duplicate-key': 'a: 1\na: 2\n',
    'bad-indent': 'a:\n  b: 1\n c: 2\n',
  };
}
