/**
 * An embedding table [rows, width] whose rows are copied out by id. Held in host memory, or, for a float32, float16
 * or bfloat16 record read lazily from its file (loader `lazy`), left there and read a row at a time (16-bit rows
 * widened to f32): Qwen2's text table is 545 MB at full size (a sixth of the model's host memory, a third of the
 * CPU engine's with q8 weights), and a synthesis reads a few hundred of its rows (each read opens the file: ~10-20
 * µs a row). Browser-safe.
 */
import { bf16ToFloat, halfToFloat, ownFloat32 } from '../../../loader/dtype.js';
import type { TensorRecord } from '../../../loader/types.js';

export class EmbeddingTable {
  private constructor(
    readonly rows: number,
    readonly width: number,
    private readonly read: (id: number, dst: Float32Array) => void,
  ) {}

  /** A [rows, width] record: left in its file when it is a lazy 32- or 16-bit float one, else widened to f32 in memory. */
  static of(t: TensorRecord): EmbeddingTable {
    const [rows, width] = t.dims;
    if (t.dims.length !== 2) throw new RangeError(`embedding ${t.name}: dims [${t.dims}] are not [rows, width]`);
    const readInto = t.readInto;
    if (readInto && t.dtype === 'float32') {
      return new EmbeddingTable(rows, width, (id, dst) => readInto(new Uint8Array(dst.buffer, dst.byteOffset, 4 * width), 4 * id * width));
    }
    if (readInto && (t.dtype === 'float16' || t.dtype === 'bfloat16')) {
      // int8 and fp16 conversions keep the tables in 16 bits: a row is read into `half` and widened.
      const half = new Uint16Array(width);
      const widen = t.dtype === 'float16' ? halfToFloat : bf16ToFloat;
      return new EmbeddingTable(rows, width, (id, dst) => {
        readInto(new Uint8Array(half.buffer), 2 * id * width);
        for (let i = 0; i < width; i++) dst[i] = widen(half[i]);
      });
    }
    return EmbeddingTable.inMemory(ownFloat32(t), rows, width);
  }

  static inMemory(values: Float32Array, rows: number, width: number): EmbeddingTable {
    if (values.length !== rows * width) throw new RangeError(`embedding: ${values.length} values are not [${rows}, ${width}]`);
    return new EmbeddingTable(rows, width, (id, dst) => dst.set(values.subarray(id * width, (id + 1) * width)));
  }

  /** Row `id` into dst's first `width` values (callers check ids against their vocabularies first). */
  row(id: number, dst: Float32Array): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.rows) throw new RangeError(`embedding row ${id} is outside [0, ${this.rows})`);
    if (dst.length < this.width) throw new RangeError(`embedding row: ${dst.length} values cannot hold ${this.width}`);
    this.read(id, dst);
  }

  /** Rows `ids` one after another: [ids.length, width]. */
  gather(ids: ArrayLike<number>): Float32Array {
    const w = this.width, out = new Float32Array(ids.length * w);
    for (let i = 0; i < ids.length; i++) this.row(ids[i], out.subarray(i * w, (i + 1) * w));
    return out;
  }
}
