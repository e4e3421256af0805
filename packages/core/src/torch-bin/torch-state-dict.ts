import { InputError, type InputIssue, elementCount, type SafetensorsDtype } from '@xlt/plugin-api';
import { describePickled, PickleValueError, PyGlobal, type AllowedGlobal } from './restricted-unpickler.js';

/** A storage a PyTorch pickle refers to by persistent id: its key (the zip entry or legacy record), dtype and size. */
export interface TorchStorage {
  readonly key: string;
  readonly dtype: SafetensorsDtype;
  /** Number of elements. */
  readonly numel: number;
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage. */
export interface TorchTensorView {
  readonly storage: TorchStorage;
  /** Offset of element 0 in the storage, in elements. */
  readonly offset: number;
  readonly shape: readonly number[];
  /** Strides in elements. */
  readonly stride: readonly number[];
}

/** PyTorch's typed storage classes (the type in a storage's persistent id) and their dtypes. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = {
  'torch.FloatStorage': 'F32',
  'torch.DoubleStorage': 'F64',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
};

class TensorView implements TorchTensorView {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

function dims(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new PickleValueError(`${what}: a tuple of non-negative integers`, describePickled(value));
  }
  return value as number[];
}

function rebuildTensor(args: readonly unknown[]): TensorView {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof Storage)) throw new PickleValueError('a storage (persistent id) as the first argument of _rebuild_tensor', describePickled(storage));
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new PickleValueError('a non-negative storage offset', describePickled(offset));
  const shape = dims(size, 'the size');
  const strides = dims(stride, 'the stride');
  if (shape.length !== strides.length) throw new PickleValueError(`as many strides as dimensions (${shape.length})`, `${strides.length}`);
  if (elementCount(shape) > 0) {
    const last = shape.reduce((at, d, i) => at + (d - 1) * strides[i]!, offset);
    if (last >= storage.numel) {
      throw new PickleValueError(
        `a view inside storage ${JSON.stringify(storage.key)} of ${storage.numel} elements`,
        `offset ${offset}, size [${shape.join(', ')}], stride [${strides.join(', ')}] reaching element ${last}`,
      );
    }
  }
  return new TensorView(storage, offset, shape, strides);
}

/**
 * The globals a `torch.save`d state dict needs, and nothing else: `collections.OrderedDict` (the dict and a
 * tensor's empty backward hooks), `torch._utils._rebuild_tensor_v2` (and v1, and `_rebuild_parameter` for dicts of
 * `nn.Parameter`s), and the typed storage classes, which appear only inside persistent ids and are never called.
 */
export function torchGlobals(): ReadonlyMap<string, AllowedGlobal> {
  const globals = new Map<string, AllowedGlobal>([
    [
      'collections.OrderedDict',
      {
        call: (args) => {
          if (args.length !== 0) throw new PickleValueError('OrderedDict() with no arguments', `${args.length} arguments`);
          return new Map();
        },
      },
    ],
    [
      'torch._utils._rebuild_tensor_v2',
      {
        call: (args) => {
          // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])
          if (args.length < 6 || args.length > 7) throw new PickleValueError('6 or 7 arguments to _rebuild_tensor_v2', `${args.length}`);
          return rebuildTensor(args);
        },
      },
    ],
    [
      'torch._utils._rebuild_tensor',
      {
        call: (args) => {
          if (args.length !== 4) throw new PickleValueError('4 arguments to _rebuild_tensor', `${args.length}`);
          return rebuildTensor(args);
        },
      },
    ],
    [
      'torch._utils._rebuild_parameter',
      {
        call: (args) => {
          if (args.length !== 3 || !(args[0] instanceof TensorView)) throw new PickleValueError('(tensor, requires_grad, hooks) for _rebuild_parameter', `${args.length} arguments starting with ${describePickled(args[0])}`);
          return args[0];
        },
      },
    ],
  ]);
  for (const name of Object.keys(TORCH_STORAGE_DTYPES)) globals.set(name, {});
  return globals;
}

class Storage implements TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDtype,
    readonly numel: number,
  ) {}
}

/**
 * A BINPERSID loader for PyTorch storages: `('storage', StorageType, key, location, numel)` in the zip format,
 * with a sixth element (view metadata, which must be None) in the legacy format. Tensors that share a storage
 * (tied weights) get the same {@link TorchStorage}. `storages` collects every storage by key.
 */
export function storageLoader(storages: Map<string, TorchStorage>, legacy: boolean): (id: unknown) => TorchStorage {
  return (id) => {
    const length = legacy ? 6 : 5;
    if (!Array.isArray(id) || id.length !== length || id[0] !== 'storage') {
      throw new PickleValueError(`a persistent id ('storage', type, key, location, numel${legacy ? ', view_metadata' : ''})`, describePickled(id));
    }
    const [, type, key, , numel] = id;
    const dtype = type instanceof PyGlobal ? TORCH_STORAGE_DTYPES[type.qualifiedName] : undefined;
    if (!dtype) throw new PickleValueError(`a storage type (${Object.keys(TORCH_STORAGE_DTYPES).join(', ')})`, describePickled(type));
    if (typeof key !== 'string') throw new PickleValueError('a storage key (a string)', describePickled(key));
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new PickleValueError('a storage size (a non-negative integer)', describePickled(numel));
    if (legacy && id[5] !== null) throw new PickleValueError('no storage view metadata (None; views of storages predate PyTorch 1.0)', describePickled(id[5]));
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== dtype || known.numel !== numel) {
        throw new PickleValueError(`storage ${JSON.stringify(key)} as first seen (${known.dtype}, ${known.numel} elements)`, `${dtype}, ${numel} elements`);
      }
      return known;
    }
    const storage = new Storage(key, dtype, numel);
    storages.set(key, storage);
    return storage;
  };
}

/**
 * The tensors of an unpickled state dict, by name, in their order. Anything but a dict of tensors (a training
 * checkpoint `{"model": ..., "optimizer": ...}`, a non-tensor value) is an {@link InputError} naming the keys.
 */
export function stateDictTensors(value: unknown, file: string, part: string): Map<string, TorchTensorView> {
  if (!(value instanceof Map)) {
    throw new InputError([{ file, path: part, expected: 'a state dict (tensor names to tensors), as torch.save(model.state_dict()) writes', found: describePickled(value) }]);
  }
  const issues: InputIssue[] = [];
  const tensors = new Map<string, TorchTensorView>();
  for (const [key, tensor] of value as Map<unknown, unknown>) {
    if (typeof key !== 'string') issues.push({ file, path: part, expected: 'tensor names (strings) as keys', found: describePickled(key) });
    else if (!(tensor instanceof TensorView)) issues.push({ file, path: `${part}[${JSON.stringify(key)}]`, expected: 'a tensor', found: describePickled(tensor) });
    else tensors.set(key, tensor);
  }
  if (issues.length) throw new InputError(issues.slice(0, 10), `${file}: not a state dict of tensors (${issues.length} problem${issues.length > 1 ? 's' : ''}).`);
  return tensors;
}

/** A state dict read from a checkpoint file: its tensors, and where each storage's first element is in the file. */
export interface StoredStateDict {
  readonly tensors: ReadonlyMap<string, TorchTensorView>;
  /** Absolute file offset of each storage's data, by key. */
  readonly storageStarts: ReadonlyMap<string, number>;
}
