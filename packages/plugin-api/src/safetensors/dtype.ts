/**
 * Element types of the safetensors format (the names used in the header, as in the Rust `safetensors` crate).
 * All values are little-endian.
 */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** Bytes per element of each dtype. */
export const DTYPE_SIZES: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Every dtype name the format defines, in the order above. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = Object.keys(DTYPE_SIZES) as SafetensorsDtype[];

/** The float dtypes xlt converts to and from `Float32Array`/`Float64Array` (averaging works on these). */
export type FloatDtype = 'F16' | 'BF16' | 'F32' | 'F64';

/** True for a dtype name the format defines. */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZES, value);
}

/** True for the float dtypes that {@link FloatDtype} covers. */
export function isFloatDtype(dtype: SafetensorsDtype): dtype is FloatDtype {
  return dtype === 'F16' || dtype === 'BF16' || dtype === 'F32' || dtype === 'F64';
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
