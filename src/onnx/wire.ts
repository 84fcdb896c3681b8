/**
 * Minimal protobuf wire-format encoder for the handful of ONNX messages we write.
 *
 * Why hand-written: a full-size llm.onnx carries ~2 GB of initializers. protobufjs would copy every weight into
 * one giant buffer; here a message is a list of `Part`s (small encoded buffers plus references to weight bytes),
 * so the writer can compute every length up front and stream the weights straight to disk without copying.
 *
 * Field numbers follow onnx.proto3 (onnx/onnx, IR version 8): see the constants in `proto.ts`.
 */

/** Either encoded bytes or a deferred reference to bytes that are written verbatim (weights). */
export type Part = Uint8Array;

/** A message is a sequence of parts; its length is the sum of the part lengths. */
export class Msg {
  readonly parts: Part[] = [];
  private small: number[] = [];
  length = 0;

  private flush(): void {
    if (this.small.length) {
      const b = Uint8Array.from(this.small);
      this.parts.push(b);
      this.length += b.length;
      this.small = [];
    }
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    if (typeof v === 'number' && v >= 0 && v < 2 ** 31) {
      let n = v;
      while (n >= 0x80) {
        this.small.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.small.push(n);
      return;
    }
    while (x >= 0x80n) {
      this.small.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.small.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.small.push(x);
    return this;
  }

  /** Packed repeated int64 (ONNX `dims`, `ints`). */
  packedInts(field: number, vs: readonly (number | bigint)[]): this {
    const inner = new Msg();
    for (const v of vs) inner.varint(v);
    return this.msg(field, inner);
  }

  /** Packed repeated float (ONNX `floats`). */
  packedFloats(field: number, vs: readonly number[]): this {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** Length-delimited bytes; large payloads are referenced, not copied. */
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    if (b.length < 256) {
      for (const x of b) this.small.push(x);
    } else {
      this.flush();
      this.parts.push(b);
      this.length += b.length;
    }
    return this;
  }

  /** Embedded message. */
  msg(field: number, m: Msg): this {
    m.done();
    this.tag(field, 2);
    this.varint(m.length);
    this.flush();
    for (const p of m.parts) this.parts.push(p);
    this.length += m.length;
    return this;
  }

  /** Finishes pending small bytes; call before reading `parts`/`length` from outside. */
  done(): this {
    this.flush();
    return this;
  }

  /** Concatenates all parts (small messages only: tests, TensorProto files). */
  toBytes(): Uint8Array {
    this.done();
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
