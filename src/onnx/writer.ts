/**
 * Serialises a `Graph` to an ONNX ModelProto file (IR version 8, opset 17), streaming weight bytes to disk.
 *
 * External data: when the initializer bytes exceed `externalThreshold` (default 1.5 GiB, safely under protobuf's
 * 2 GiB message limit) every initializer of ≥ 1 KiB goes to `<file>.data`, at 4 KiB-aligned offsets (so a
 * runtime can mmap it), and its TensorProto carries `data_location = EXTERNAL` with `location`/`offset`/`length`
 * entries. Smaller tensors stay inline. Nothing is concatenated in memory: parts are written one by one.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { DT, type AttrValue, type Graph, type Initializer, type NodeDef, type ValueInfo } from './graph.js';
import { Msg } from './wire.js';

export interface WriteOptions {
  /** Initializer bytes above which external data is used (default 1.5 GiB). 0 = always external. */
  externalThreshold?: number;
  producer?: string;
  opset?: number;
}

const ALIGN = 4096;
const INLINE_MAX = 1024;

function tensorMsg(t: Initializer, external?: { location: string; offset: number; length: number }): Msg {
  const m = new Msg();
  m.packedInts(1, t.dims);
  m.int(2, DT[t.dtype]);
  m.string(8, t.name);
  if (external) {
    for (const [k, v] of [['location', external.location], ['offset', String(external.offset)], ['length', String(external.length)]]) {
      m.msg(13, new Msg().string(1, k).string(2, v));
    }
    m.int(14, 1);
  } else {
    m.bytes(9, t.bytes);
  }
  return m;
}

function attrMsg(name: string, v: AttrValue): Msg {
  const m = new Msg().string(1, name);
  if (typeof v === 'number') m.int(3, v).int(20, 2);
  else if (typeof v === 'string') m.string(4, v).int(20, 3);
  else if (Array.isArray(v)) m.packedInts(8, v).int(20, 7);
  else if ('f' in v) m.float(2, v.f).int(20, 1);
  else if ('fs' in v) m.packedFloats(7, v.fs).int(20, 6);
  else m.msg(5, tensorMsg(v.t)).int(20, 4);
  return m;
}

function nodeMsg(n: NodeDef): Msg {
  const m = new Msg();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name).string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs)) m.msg(5, attrMsg(k, v));
  if (n.domain) m.string(7, n.domain);
  return m;
}

function valueInfoMsg(v: ValueInfo): Msg {
  const shape = new Msg();
  for (const d of v.shape) shape.msg(1, typeof d === 'number' ? new Msg().int(1, d) : new Msg().string(2, d));
  const tensorType = new Msg().int(1, DT[v.dtype]).msg(2, shape);
  return new Msg().string(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

export interface WriteResult {
  onnxBytes: number;
  dataBytes: number;
  dataFile?: string;
}

/** Writes `graph` to `path` (and `path + '.data'` when external). */
export function writeModel(graph: Graph, path: string, opts: WriteOptions = {}): WriteResult {
  const threshold = opts.externalThreshold ?? 1.5 * 2 ** 30;
  let total = 0;
  for (const t of graph.initializers.values()) total += t.bytes.length;
  const external = total > threshold;
  const dataName = basename(path) + '.data';

  const g = new Msg();
  for (const n of graph.nodes) g.msg(1, nodeMsg(n));
  g.string(2, graph.name);
  const externalList: Initializer[] = [];
  let offset = 0;
  for (const t of graph.initializers.values()) {
    if (external && t.bytes.length >= INLINE_MAX) {
      offset = Math.ceil(offset / ALIGN) * ALIGN;
      g.msg(5, tensorMsg(t, { location: dataName, offset, length: t.bytes.length }));
      externalList.push(t);
      offset += t.bytes.length;
    } else {
      g.msg(5, tensorMsg(t));
    }
  }
  for (const v of graph.inputs) g.msg(11, valueInfoMsg(v));
  for (const v of graph.outputs) g.msg(12, valueInfoMsg(v));

  const model = new Msg();
  model.int(1, 8);
  model.string(2, opts.producer ?? 'cosyvoice-webgpu convert');
  model.string(3, '0.1.0');
  model.msg(7, g);
  model.msg(8, new Msg().string(1, '').int(2, opts.opset ?? 17));
  for (const [k, v] of Object.entries(graph.metadata)) model.msg(14, new Msg().string(1, k).string(2, v));
  model.done();

  const fd = openSync(path, 'w');
  try {
    for (const p of model.parts) writeSync(fd, p);
  } finally {
    closeSync(fd);
  }
  let dataBytes = 0;
  if (externalList.length) {
    const dfd = openSync(path + '.data', 'w');
    try {
      let pos = 0;
      const pad = new Uint8Array(ALIGN);
      for (const t of externalList) {
        const aligned = Math.ceil(pos / ALIGN) * ALIGN;
        if (aligned > pos) writeSync(dfd, pad, 0, aligned - pos);
        writeSync(dfd, t.bytes);
        pos = aligned + t.bytes.length;
      }
      dataBytes = pos;
    } finally {
      closeSync(dfd);
    }
  }
  return { onnxBytes: model.length, dataBytes, dataFile: externalList.length ? dataName : undefined };
}

/** Encodes one TensorProto (for tests and fixture-style files). */
export function encodeTensor(t: Initializer): Uint8Array {
  return tensorMsg(t).toBytes();
}
