/**
 * Restricted unpickler for torch.save state_dicts. It knows the handful of opcodes and globals that a state_dict
 * uses and builds plain data from them; it never calls anything. Any other global (os.system, builtins.eval, ...)
 * or opcode is refused with UnsupportedPickleError naming it. Dicts become Map (insertion order kept), lists and
 * tuples become arrays, tensors become TensorRef and storages StorageRef (resolved against the zip in pt.ts).
 * Browser-safe.
 */
import type { DType } from './dtype.js';
import { CorruptFileError, UnsupportedPickleError, type LoaderErrorInfo } from './errors.js';

/** torch storage class → element type. */
export const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
};

export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
}
export class StorageRef {
  constructor(readonly key: string, readonly dtype: DType, readonly numel: number) {}
}
export class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}

const ALLOWED = new Set([
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state', ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

const MARK = Symbol('mark');
const utf8 = new TextDecoder('utf-8', { fatal: false });

function intList(v: unknown, what: string, info: LoaderErrorInfo): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
    throw new CorruptFileError(`tensor ${what} is not a tuple of non-negative ints`, info);
  }
  return v as number[];
}

/** Applies one of the allowed callables to its argument tuple (pure data construction, never a call). */
function reduce(fn: unknown, args: unknown, info: LoaderErrorInfo): unknown {
  if (!(fn instanceof PickleGlobal) || !Array.isArray(args)) throw new CorruptFileError('REDUCE on a non-global', info);
  const id = `${fn.module}.${fn.name}`;
  switch (id) {
    case 'collections.OrderedDict':
      if (args.length) throw new UnsupportedPickleError('OrderedDict with constructor arguments', info);
      return new Map();
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof StorageRef)) throw new CorruptFileError('_rebuild_tensor_v2 without a storage', info);
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new CorruptFileError(`bad storage offset ${String(offset)}`, info);
      const sz = intList(size, 'size', info);
      const st = intList(stride, 'stride', info);
      if (sz.length !== st.length) throw new CorruptFileError(`size [${sz}] and stride [${st}] differ in rank`, info);
      return new TensorRef(storage, offset as number, sz, st);
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      if (!(args[0] instanceof TensorRef)) throw new CorruptFileError(`${fn.name} without a tensor`, info);
      return args[0];
    default:
      throw new UnsupportedPickleError(`refusing to call ${id}`, info);
  }
}

function persistentLoad(pid: unknown, info: LoaderErrorInfo): StorageRef {
  if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') throw new UnsupportedPickleError('persistent id is not a torch storage', info);
  const [, cls, key, , numel] = pid;
  if (!(cls instanceof PickleGlobal) || !(cls.name in STORAGE_DTYPES)) throw new UnsupportedPickleError('unknown storage type', info);
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) throw new CorruptFileError(`bad storage key ${String(key)}`, info);
  if (!Number.isSafeInteger(numel) || (numel as number) < 0) throw new CorruptFileError(`bad storage size ${String(numel)}`, info);
  return new StorageRef(key, STORAGE_DTYPES[cls.name], numel as number);
}

/** Unpickles `data` (protocol 0–5 subset used by torch.save). */
export function unpickle(data: Uint8Array, info: LoaderErrorInfo = {}): unknown {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const need = (n: number): number => {
    if (pos + n > data.length) throw new CorruptFileError(`pickle truncated at byte ${pos}`, info);
    const p = pos;
    pos += n;
    return p;
  };
  const pop = (): unknown => {
    if (!stack.length || stack[stack.length - 1] === MARK) throw new CorruptFileError(`pickle stack underflow at byte ${pos}`, info);
    return stack.pop();
  };
  const top = (): unknown => {
    if (!stack.length) throw new CorruptFileError(`pickle stack underflow at byte ${pos}`, info);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new CorruptFileError(`pickle MARK missing at byte ${pos}`, info);
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const str = (n: number) => utf8.decode(data.subarray(need(n), pos));
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new CorruptFileError('pickle GLOBAL without newline', info);
    const s = utf8.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const global = (module: string, name: string): PickleGlobal => {
    const id = `${module}.${name}`;
    if (!ALLOWED.has(id)) throw new UnsupportedPickleError(`global ${id} is not allowed in a state_dict`, info);
    return new PickleGlobal(module, name);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof Map) || kv.length % 2) throw new CorruptFileError('SETITEMS on a non-dict', info);
    for (let i = 0; i < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) throw new CorruptFileError('APPENDS on a non-list', info);
    for (const it of items) l.push(it);
  };
  const len32 = () => dv.getUint32(need(4), true);
  while (true) {
    const op = data[need(1)];
    switch (op) {
      case 0x80: need(1); break; // PROTO
      case 0x95: need(8); break; // FRAME: framing is only a hint
      case 0x2e: { // STOP
        const v = pop();
        return v;
      }
      case 0x28: stack.push(MARK); break;
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x64: { const d = new Map(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x4a: stack.push(dv.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(data[need(1)]); break; // BININT1
      case 0x4d: stack.push(dv.getUint16(need(2), true)); break; // BININT2
      case 0x8a: { // LONG1: little-endian two's complement
        const n = data[need(1)];
        const p = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i]);
        if (n && data[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x47: stack.push(dv.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: stack.push(str(len32())); break; // BINUNICODE
      case 0x8c: stack.push(str(data[need(1)])); break; // SHORT_BINUNICODE
      case 0x8d: { const lo = len32(); const hi = len32(); if (hi) throw new CorruptFileError('BINUNICODE8 too long', info); stack.push(str(lo)); break; }
      case 0x55: stack.push(str(data[need(1)])); break; // SHORT_BINSTRING
      case 0x54: stack.push(str(len32())); break; // BINSTRING
      case 0x43: { const n = data[need(1)]; stack.push(data.subarray(need(n), pos)); break; } // SHORT_BINBYTES
      case 0x42: { const n = len32(); stack.push(data.subarray(need(n), pos)); break; } // BINBYTES
      case 0x71: memo.set(data[need(1)], top()); break; // BINPUT
      case 0x72: memo.set(len32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const k = op === 0x68 ? data[need(1)] : len32();
        if (!memo.has(k)) throw new CorruptFileError(`pickle memo ${k} missing`, info);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: { const m = line(); const n = line(); stack.push(global(m, n)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const n = pop();
        const m = pop();
        if (typeof m !== 'string' || typeof n !== 'string') throw new CorruptFileError('STACK_GLOBAL without names', info);
        stack.push(global(m, n));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(reduce(fn, args, info)); break; } // REDUCE
      case 0x62: { // BUILD: only OrderedDict state (its _metadata) and tensor state, both ignored
        pop();
        const obj = top();
        if (!(obj instanceof Map) && !(obj instanceof TensorRef)) throw new UnsupportedPickleError('BUILD on an unsupported object', info);
        break;
      }
      case 0x51: stack.push(persistentLoad(pop(), info)); break; // BINPERSID
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        throw new UnsupportedPickleError(`pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} is not supported`, info);
    }
  }
}
