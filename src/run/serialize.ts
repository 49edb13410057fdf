/**
 * Bit-exact JSON encoding of sampler states and other plain data for checkpoints: typed arrays as
 * base64 of their bytes, −0, NaN and ±Infinity tagged, so a restored state continues with the same bits.
 */

/** A value that cannot be written to a checkpoint (a class instance, function, bigint, ...). */
export class CheckpointEncodingError extends Error {
  override name = 'CheckpointEncodingError';
}

const TYPED_ARRAYS = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
} as const;

type TypedArrayName = keyof typeof TYPED_ARRAYS;

function typedArrayName(value: ArrayBufferView): TypedArrayName | undefined {
  for (const name of Object.keys(TYPED_ARRAYS) as TypedArrayName[]) {
    if (value instanceof TYPED_ARRAYS[name]) return name;
  }
  return undefined;
}

function encodeNumber(value: number): unknown {
  if (Object.is(value, -0)) return { $number: '-0' };
  if (!Number.isFinite(value)) return { $number: String(value) };
  // JSON writes the shortest decimal that parses back to the same double.
  return value;
}

/**
 * Encode plain data (numbers, strings, booleans, null, arrays, plain objects, typed arrays) into
 * JSON-safe data that {@link decodeState} restores bit for bit. `where` names the value in errors.
 * @throws CheckpointEncodingError naming the path of a value that is not plain data.
 */
export function encodeState(value: unknown, where = 'state'): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return encodeNumber(value);
  if (value === undefined) return { $undefined: true };
  if (ArrayBuffer.isView(value)) {
    const name = value instanceof DataView ? undefined : typedArrayName(value);
    if (!name) throw new CheckpointEncodingError(`${where}: cannot checkpoint a ${value.constructor.name}`);
    return { $typed: name, base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map((item, i) => encodeState(item, `${where}[${i}]`));
  if (typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CheckpointEncodingError(`${where}: cannot checkpoint an instance of ${name}; sampler states must be plain data`);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('$')) throw new CheckpointEncodingError(`${where}.${key}: field names starting with '$' are reserved`);
      if (item !== undefined) out[key] = encodeState(item, `${where}.${key}`);
    }
    return out;
  }
  throw new CheckpointEncodingError(`${where}: cannot checkpoint a ${typeof value}`);
}

/**
 * Decode what {@link encodeState} produced.
 * @throws CheckpointEncodingError naming the path of a malformed entry.
 */
export function decodeState(value: unknown, where = 'state'): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item, i) => decodeState(item, `${where}[${i}]`));
  const record = value as Record<string, unknown>;
  if ('$number' in record) {
    const tag = record.$number;
    if (tag === '-0') return -0;
    if (tag === 'NaN') return Number.NaN;
    if (tag === 'Infinity') return Number.POSITIVE_INFINITY;
    if (tag === '-Infinity') return Number.NEGATIVE_INFINITY;
    throw new CheckpointEncodingError(`${where}: unknown number tag ${JSON.stringify(tag)}`);
  }
  if ('$undefined' in record) return undefined;
  if ('$typed' in record) {
    const name = record.$typed as TypedArrayName;
    const Constructor = TYPED_ARRAYS[name] as (typeof TYPED_ARRAYS)[TypedArrayName] | undefined;
    if (!Constructor || typeof record.base64 !== 'string') {
      throw new CheckpointEncodingError(`${where}: malformed typed array ${JSON.stringify(record.$typed)}`);
    }
    const bytes = Buffer.from(record.base64, 'base64');
    if (bytes.length % Constructor.BYTES_PER_ELEMENT !== 0) {
      throw new CheckpointEncodingError(`${where}: ${bytes.length} bytes is not a whole number of ${name} elements`);
    }
    // Copy into a fresh, aligned buffer: Buffer slices may share an unaligned pool.
    const out = new Constructor(bytes.length / Constructor.BYTES_PER_ELEMENT);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) out[key] = decodeState(item, `${where}.${key}`);
  return out;
}
