import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { indexedJobManifests } from './kubernetes.js';
import { slurmScripts } from './slurm.js';
import { selectedUnits } from './units.js';

describe('which units a process does', () => {
  it('takes --index, else --shard, else the first array index a scheduler set, else the whole experiment', () => {
    expect(selectedUnits({ index: 3 }, 8, { SLURM_ARRAY_TASK_ID: '1' })).toEqual([3]);
    expect(selectedUnits({ shard: '1/3' }, 8, {})).toEqual([1, 4, 7]);
    expect(selectedUnits({}, 8, { SLURM_ARRAY_TASK_ID: '5' })).toEqual([5]);
    expect(selectedUnits({}, 8, { JOB_COMPLETION_INDEX: '6' })).toEqual([6]);
    expect(selectedUnits({}, 8, { AWS_BATCH_JOB_ARRAY_INDEX: '0' })).toEqual([0]);
    expect(selectedUnits({}, 8, { SLURM_ARRAY_TASK_ID: '' })).toBeUndefined();
  });

  it('refuses an index past the plan, a malformed shard and a non-numeric array index, naming the source', () => {
    expect(() => selectedUnits({ index: 8 }, 8, {})).toThrow('--index is 8, but the experiment has 8 units (indices 0 to 7');
    expect(() => selectedUnits({}, 4, { SLURM_ARRAY_TASK_ID: '4' })).toThrow('SLURM_ARRAY_TASK_ID is 4, but the experiment has 4 units');
    for (const shard of ['3/3', '1', 'a/b', '0/0']) expect(() => selectedUnits({ shard }, 4, {})).toThrow(`--shard must be i/n with 0 <= i < n (e.g. 0/4), found "${shard}"`);
    expect(() => selectedUnits({}, 4, { JOB_COMPLETION_INDEX: 'x' })).toThrow('JOB_COMPLETION_INDEX is "x", not an array index');
  });
});

describe('xlt submit', () => {
  const base = { config: "/work/exp's.json", out: '/work/out', units: 20, name: 'ner' };

  it('slurm: an array of one task per unit (%K, CPUs, GPUs, requeue, logs) and an aggregate job, quoting paths', () => {
    const { array, aggregate } = slurmScripts({ ...base, parallel: 8, cpusPerTask: 4, gpusPerTask: 1, time: '4:00:00', partition: 'gpu', xlt: 'xlt' });
    for (const line of ['#SBATCH --array=0-19%8', '#SBATCH --cpus-per-task=4', '#SBATCH --gpus-per-task=1', '#SBATCH --time=4:00:00', '#SBATCH --partition=gpu', '#SBATCH --requeue', '#SBATCH --output=/work/out/slurm/logs/unit-%a.out']) {
      expect(array.split('\n')).toContain(line);
    }
    expect(array).toContain(`exec xlt run '/work/exp'\\''s.json' --out '/work/out'\n`);
    expect(aggregate).toContain(`exec xlt run '/work/exp'\\''s.json' --out '/work/out' --aggregate\n`);
    expect(aggregate).not.toContain('--array');
    expect(slurmScripts({ ...base, xlt: 'xlt' }).array).toContain('#SBATCH --array=0-19\n');
  });

  it('k8s: an Indexed Job of units and an aggregate Job that parse as YAML with the resources asked for', () => {
    const m = indexedJobManifests({ ...base, image: 'registry/xlt:1', claim: 'work', mountPath: '/work', parallel: 4, cpusPerTask: 8, gpusPerTask: 1, mem: '32Gi' });
    const [units] = parseAllDocuments(m.units).map((d) => d.toJS());
    const [aggregate] = parseAllDocuments(m.aggregate).map((d) => d.toJS());
    expect(units.metadata.name).toBe('xlt-ner-units');
    expect(units.spec).toMatchObject({ completionMode: 'Indexed', completions: 20, parallelism: 4 });
    const container = units.spec.template.spec.containers[0];
    expect(container.args).toEqual(['run', "/work/exp's.json", '--out', '/work/out']);
    expect(container.resources.limits).toEqual({ cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '1' });
    expect(container.env).toContainEqual({ name: 'XLT_NATIVE_THREADS', value: '8' });
    expect(units.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('work');
    expect(aggregate.spec.template.spec.containers[0].args).toEqual(['run', "/work/exp's.json", '--out', '/work/out', '--aggregate']);
  });
});
