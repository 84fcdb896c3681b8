/**
 * In-memory ONNX graph: nodes, initializers (weight bytes referenced, never copied), graph inputs/outputs.
 * `builder.ts` adds typed helpers on top; `writer.ts` serialises it (inline or external data).
 */

/** ONNX TensorProto.DataType numbers used here. */
export const DT = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  double: 11,
} as const;
export type DTName = keyof typeof DT;

export const DT_BYTES: Record<DTName, number> = {
  float: 4, uint8: 1, int8: 1, int32: 4, int64: 8, bool: 1, float16: 2, double: 8,
};

/** Attribute values: plain number = INT, `{ f }` = FLOAT, number[] = INTS, `{ fs }` = FLOATS, string = STRING. */
export type AttrValue = number | { f: number } | number[] | { fs: number[] } | string | { t: Initializer };
export type Attrs = Record<string, AttrValue>;

export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Attrs;
  domain?: string;
}

export interface Initializer {
  name: string;
  dtype: DTName;
  dims: number[];
  /** Little-endian element bytes, length = prod(dims)·sizeof(dtype). */
  bytes: Uint8Array;
}

export interface ValueInfo {
  name: string;
  dtype: DTName;
  /** number = static size, string = symbolic dim_param. */
  shape: (number | string)[];
}

export class GraphError extends Error {
  override name = 'GraphError';
}

export class Graph {
  readonly nodes: NodeDef[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly metadata: Record<string, string> = {};
  private counter = 0;
  private scopes: string[] = [];

  constructor(readonly name: string) {}

  /** Runs `fn` with node/value names prefixed by `scope/` (names read like the module tree in Netron). */
  scope<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  fresh(hint: string): string {
    const pre = this.scopes.length ? this.scopes.join('/') + '/' : '';
    return `${pre}${hint}_${this.counter++}`;
  }

  input(name: string, dtype: DTName, shape: (number | string)[]): string {
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** Declares `value` as a graph output named `name` (adds an Identity when the names differ). */
  output(name: string, value: string, dtype: DTName, shape: (number | string)[]): void {
    if (value !== name) this.node('Identity', [value], {}, [name]);
    this.outputs.push({ name, dtype, shape });
  }

  initializer(init: Initializer): string {
    const n = init.dims.reduce((a, b) => a * b, 1);
    if (init.bytes.length !== n * DT_BYTES[init.dtype]) {
      throw new GraphError(`initializer ${init.name}: ${init.bytes.length} bytes for ${init.dtype} [${init.dims}]`);
    }
    if (this.initializers.has(init.name)) throw new GraphError(`initializer ${init.name} defined twice`);
    this.initializers.set(init.name, init);
    return init.name;
  }

  hasInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  /** Adds a node; returns its output names (fresh names unless given). */
  node(op: string, inputs: string[], attrs: Attrs = {}, outputs?: string[] | number, domain?: string): string[] {
    const outs = Array.isArray(outputs)
      ? outputs
      : Array.from({ length: outputs ?? 1 }, () => this.fresh(op));
    this.nodes.push({ op, inputs, outputs: outs, name: this.fresh(`${op}_node`), attrs, domain });
    return outs;
  }
}

/** Little-endian byte views of typed arrays (no copy when aligned). */
export function bytesOf(a: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
