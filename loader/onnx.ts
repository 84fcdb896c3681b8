/**
 * ONNX ModelProto reader over the protobuf wire format (wire.ts): initializers become a TensorStore whose bytes are
 * views into the model buffer; the graph keeps inputs, outputs, nodes and attributes; metadata_props and
 * opset_import are kept. External-data tensors come back as references (ExternalRef) that onnx-external.ts reads
 * from a ByteSource, so browser and Node share this parser. Browser-safe.
 */
import { ONNX_DTYPES, type DType } from './dtype.js';
import { CorruptFileError, MissingTensorError, type LoaderErrorInfo } from './errors.js';
import { parseTensorProto, type ExternalRef } from './onnx-tensor.js';
import { DEFAULT_MAX_TENSOR_BYTES, type TensorRecord, type TensorStore } from './types.js';
import { WIRE_FIXED32, WIRE_LEN, WIRE_VARINT, WireReader } from './wire.js';

export interface ValueInfo { name: string; elemType: DType | undefined; dims: (number | string)[] }
export interface OnnxNode {
  name: string; opType: string; domain: string; inputs: string[]; outputs: string[]; attributes: Record<string, unknown>;
}
export interface OnnxGraph { name: string; inputs: ValueInfo[]; outputs: ValueInfo[]; nodes: OnnxNode[] }
export interface OnnxModel {
  tensors: TensorStore; graph: OnnxGraph; metadata: Record<string, string>; opsetImport: { domain: string; version: number }[];
}

/** An external tensor still to be read, and where its record goes once read (initializer store or an attribute). */
export interface PendingExternal { ref: ExternalRef; assign: (t: TensorRecord) => void }

export interface ParsedOnnx { model: OnnxModel; external: PendingExternal[] }

export interface ParseOnnxOptions {
  maxTensorBytes?: number;
  /** 'error' (default): external tensors throw MissingTensorError; 'defer': returned in ParsedOnnx.external. */
  external?: 'error' | 'defer';
}

const MAX_GRAPH_DEPTH = 32;

interface Ctx { file?: string; maxTensorBytes: number; external: PendingExternal[]; depth: number }

function parseStringPair(r: WireReader): [string, string] {
  let k = '';
  let v = '';
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) k = r.string();
    else if (f === 2 && w === WIRE_LEN) v = r.string();
    else r.skip(w);
  }
  return [k, v];
}

function parseValueInfo(r: WireReader): ValueInfo {
  const vi: ValueInfo = { name: '', elemType: undefined, dims: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) vi.name = r.string();
    else if (f === 2 && w === WIRE_LEN) {
      const tp = r.message(); // TypeProto
      while (!tp.done) {
        const [tf, tw] = tp.tag();
        if (tf !== 1 || tw !== WIRE_LEN) { tp.skip(tw); continue; }
        const tt = tp.message(); // TypeProto.Tensor
        while (!tt.done) {
          const [ef, ew] = tt.tag();
          if (ef === 1 && ew === WIRE_VARINT) vi.elemType = ONNX_DTYPES[tt.uint()];
          else if (ef === 2 && ew === WIRE_LEN) {
            const shape = tt.message();
            while (!shape.done) {
              const [sf, sw] = shape.tag();
              if (sf !== 1 || sw !== WIRE_LEN) { shape.skip(sw); continue; }
              const dim = shape.message();
              let d: number | string = '?';
              while (!dim.done) {
                const [df, dw] = dim.tag();
                if (df === 1 && dw === WIRE_VARINT) d = Number(dim.int64());
                else if (df === 2 && dw === WIRE_LEN) d = dim.string();
                else dim.skip(dw);
              }
              vi.dims.push(d);
            }
          } else tt.skip(ew);
        }
      }
    } else r.skip(w);
  }
  return vi;
}

function tensorValue(r: WireReader, ctx: Ctx, set: (t: TensorRecord) => void): TensorRecord | ExternalRef {
  const p = parseTensorProto(r, ctx.file, ctx.maxTensorBytes);
  if (p.kind === 'inline') return p.record;
  ctx.external.push({ ref: p.ref, assign: set });
  return p.ref;
}

function parseAttribute(r: WireReader, ctx: Ctx, attrs: Record<string, unknown>): void {
  let name = '';
  let type = 0;
  const ints: (number | bigint)[] = [];
  const floats: number[] = [];
  const strings: string[] = [];
  const tensors: unknown[] = [];
  const graphs: OnnxGraph[] = [];
  let single: unknown;
  const setT = (i: number) => (t: TensorRecord) => {
    if (type === 9 || tensors.length > 1) (attrs[name] as unknown[])[i] = t;
    else attrs[name] = t;
  };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) name = r.string();
    else if (f === 20 && w === WIRE_VARINT) type = r.uint();
    else if (f === 2 && w === WIRE_FIXED32) single = r.float();
    else if (f === 3 && w === WIRE_VARINT) single = r.int64();
    else if (f === 4 && w === WIRE_LEN) single = r.string();
    else if ((f === 5 || f === 10) && w === WIRE_LEN) tensors.push(tensorValue(r.message(), ctx, setT(tensors.length)));
    else if ((f === 6 || f === 11) && w === WIRE_LEN) graphs.push(parseGraph(r.message(), { ...ctx, depth: ctx.depth + 1 }));
    else if (f === 7) {
      const v = r.repeatedFixed(w, 4);
      const dv = new DataView(v.buffer, v.byteOffset, v.length);
      for (let i = 0; i < v.length; i += 4) floats.push(dv.getFloat32(i, true));
    } else if (f === 8) r.repeatedInt64(w, ints);
    else if (f === 9 && w === WIRE_LEN) strings.push(r.string());
    else r.skip(w);
  }
  // Lists (types 6..10) stay lists even with one element; singles come from f/i/s/t/g.
  if (type === 6) attrs[name] = floats;
  else if (type === 7) attrs[name] = ints;
  else if (type === 8) attrs[name] = strings;
  else if (type === 9) attrs[name] = tensors;
  else if (type === 10) attrs[name] = graphs;
  else if (tensors.length) attrs[name] = tensors.length === 1 ? tensors[0] : tensors;
  else if (graphs.length) attrs[name] = graphs.length === 1 ? graphs[0] : graphs;
  else if (single !== undefined) attrs[name] = single;
  else if (floats.length) attrs[name] = floats;
  else if (ints.length) attrs[name] = ints;
  else if (strings.length) attrs[name] = strings;
  else attrs[name] = undefined;
}

function parseNode(r: WireReader, ctx: Ctx): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: {} };
  while (!r.done) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) { r.skip(w); continue; }
    if (f === 1) n.inputs.push(r.string());
    else if (f === 2) n.outputs.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 7) n.domain = r.string();
    else if (f === 5) parseAttribute(r.message(), ctx, n.attributes);
    else r.skip(w);
  }
  return n;
}

/** Parses a GraphProto; initializers of the top-level graph go to `store` (nested graphs keep theirs private). */
function parseGraph(r: WireReader, ctx: Ctx, store?: TensorStore): OnnxGraph {
  if (ctx.depth > MAX_GRAPH_DEPTH) throw new CorruptFileError(`graphs nested deeper than ${MAX_GRAPH_DEPTH}`, { file: ctx.file });
  const g: OnnxGraph = { name: '', inputs: [], outputs: [], nodes: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) { r.skip(w); continue; }
    if (f === 1) g.nodes.push(parseNode(r.message(), ctx));
    else if (f === 2) g.name = r.string();
    else if (f === 11) g.inputs.push(parseValueInfo(r.message()));
    else if (f === 12) g.outputs.push(parseValueInfo(r.message()));
    else if (f === 5) {
      const sub = r.message();
      const put = (t: TensorRecord) => {
        if (store) store.set(t.name, t);
      };
      const v = tensorValue(sub, ctx, put);
      if ('bytes' in v) put(v);
    } else r.skip(w);
  }
  return g;
}

/** Parses a ModelProto. External tensors are deferred or refused per `opts.external`. */
export function parseOnnxModel(bytes: Uint8Array, file?: string, opts: ParseOnnxOptions = {}): ParsedOnnx {
  const info: LoaderErrorInfo = { file };
  const ctx: Ctx = { file, maxTensorBytes: opts.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES, external: [], depth: 0 };
  const tensors: TensorStore = new Map();
  const model: OnnxModel = { tensors, graph: { name: '', inputs: [], outputs: [], nodes: [] }, metadata: {}, opsetImport: [] };
  const r = WireReader.of(bytes, info);
  let sawGraph = false;
  let irVersion = -1;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_VARINT) irVersion = r.uint();
    else if (f === 7 && w === WIRE_LEN) {
      if (sawGraph) throw new CorruptFileError('ModelProto with two graphs', info);
      model.graph = parseGraph(r.message(), ctx, tensors);
      sawGraph = true;
    } else if (f === 8 && w === WIRE_LEN) {
      const o = r.message();
      const op = { domain: '', version: 0 };
      while (!o.done) {
        const [of, ow] = o.tag();
        if (of === 1 && ow === WIRE_LEN) op.domain = o.string();
        else if (of === 2 && ow === WIRE_VARINT) op.version = Number(o.int64());
        else o.skip(ow);
      }
      model.opsetImport.push(op);
    } else if (f === 14 && w === WIRE_LEN) {
      const [k, v] = parseStringPair(r.message());
      model.metadata[k] = v;
    } else r.skip(w);
  }
  // A random byte string often parses as a valid message of unknown fields; real models always carry these.
  if (!sawGraph || irVersion < 1) {
    throw new CorruptFileError(`not an ONNX model (${sawGraph ? 'no ir_version' : 'no graph'})`, info);
  }
  if ((opts.external ?? 'error') === 'error' && ctx.external.length) {
    const e = ctx.external[0].ref;
    throw new MissingTensorError(
      `tensor data is in external file "${e.location}"; load with loadOnnx (node) or loadOnnxUrl (browser)`,
      { file, tensor: e.name },
    );
  }
  return { model, external: ctx.external };
}

/** Parses a self-contained ONNX model from bytes (no external data). Browser-safe. */
export function parseOnnx(bytes: Uint8Array, file?: string, opts: { maxTensorBytes?: number } = {}): OnnxModel {
  return parseOnnxModel(bytes, file, { ...opts, external: 'error' }).model;
}
