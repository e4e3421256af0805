import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '@xlt/plugin-api';
import { TruncatedPickleError, unpickle } from './restricted-unpickler.js';
import { stateDictPickle, op, pickle } from './torch-fixtures.testing.js';
import { stateDictTensors, storageLoader, torchGlobals, type TorchStorage } from './torch-state-dict.js';

const utf8 = new TextEncoder();
const options = (storages = new Map<string, TorchStorage>()) => ({ file: 'evil.bin', part: 'archive/data.pkl', globals: torchGlobals(), persistentLoad: storageLoader(storages, false) });

function refusal(bytes: Uint8Array): string {
  try {
    unpickle(bytes, options());
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('the pickle was accepted');
}

describe('restricted unpickler', () => {
  it('rebuilds a state dict of tensors, sharing one storage between tied names', () => {
    const storages = new Map<string, TorchStorage>();
    const bytes = stateDictPickle([
      { name: 'w', key: '0', type: 'FloatStorage', numel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
      { name: 'tied', key: '0', type: 'FloatStorage', numel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
      { name: 'col', key: '1', type: 'HalfStorage', numel: 12, offset: 2, shape: [3, 2], stride: [1, 3] },
    ]);
    const { value, end } = unpickle(bytes, options(storages));
    expect(end).toBe(bytes.byteLength);
    const tensors = stateDictTensors(value, 'x.bin', 'archive/data.pkl');
    expect([...tensors.keys()]).toEqual(['w', 'tied', 'col']);
    expect(tensors.get('w')!.storage).toBe(tensors.get('tied')!.storage);
    expect(tensors.get('col')).toMatchObject({ offset: 2, shape: [3, 2], stride: [1, 3], storage: { key: '1', dtype: 'F16', numel: 12 } });
    expect([...storages.keys()]).toEqual(['0', '1']);
  });

  it('refuses GLOBAL os.system + REDUCE before anything runs, naming the global and the byte', () => {
    const marker = join(tmpdir(), `xlt-pwned-${process.pid}-${Date.now()}`);
    // Protocol 0, as a hand-made exploit would be: cos\nsystem\n(S'touch marker'\ntR.
    const evil = utf8.encode(`cos\nsystem\n(S'touch ${marker}'\ntR.`);
    const message = refusal(evil);
    expect(message).toContain('evil.bin');
    expect(message).toContain('archive/data.pkl, pickle byte 0');
    expect(message).toContain('GLOBAL os.system (refused');
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ['builtins.eval via STACK_GLOBAL', pickle(op.proto, op.str('builtins'), op.str('eval'), op.stackGlobal, op.mark, op.str('1'), op.tuple, op.reduce, op.stop), 'STACK_GLOBAL builtins.eval'],
    ['a torch function that is not a tensor rebuilder', pickle(op.proto, op.global('torch', 'load'), op.stop), 'GLOBAL torch.load'],
    ['REDUCE of a storage class', pickle(op.proto, op.global('torch', 'FloatStorage'), op.emptyTuple, op.reduce, op.stop), 'REDUCE of torch.FloatStorage'],
    ['INST (constructs any class)', utf8.encode('(ios\nsystem\nS\'x\'\n.'), 'opcode INST'],
    ['BUILD on a list', pickle(op.proto, op.emptyList, op.emptyDict, op.build, op.stop), 'BUILD of a dict of 0 on a list'],
  ])('refuses %s', (_, bytes, found) => {
    expect(refusal(bytes)).toContain(found);
  });

  it('reports a truncated pickle as such', () => {
    const whole = stateDictPickle([{ name: 'w', key: '0', type: 'FloatStorage', numel: 1, offset: 0, shape: [1], stride: [1] }]);
    expect(() => unpickle(whole.subarray(0, whole.byteLength - 5), options())).toThrow(TruncatedPickleError);
    expect(() => unpickle(whole.subarray(0, whole.byteLength - 5), options())).toThrow(/truncated pickle/);
  });

  it('refuses a view reaching past its storage, and a dict of non-tensors', () => {
    expect(refusal(stateDictPickle([{ name: 'w', key: '0', type: 'FloatStorage', numel: 5, offset: 0, shape: [2, 3], stride: [3, 1] }]))).toContain('reaching element 5');
    const nested = pickle(op.proto, op.emptyDict, op.str('model'), op.emptyDict, op.setitem, op.stop);
    expect(() => stateDictTensors(unpickle(nested, options()).value, 'x.bin', 'archive/data.pkl')).toThrow(/x\.bin at archive\/data\.pkl\["model"\]: expected a tensor, found a dict of 0/);
  });
});
