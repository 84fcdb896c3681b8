/**
 * Browser (and any fetch-capable runtime) byte access: whole files with download progress, HTTP Range reads for
 * ONNX external data, and loadOnnxUrl which ties them to the shared parser. External locations are validated as
 * relative and resolved against the model URL's folder, so they cannot leave it. Browser-safe.
 */
import { checkRange, type ByteSource } from './byte-source.js';
import { allocBytes } from './dtype.js';
import { CorruptFileError, SourceReadError } from './errors.js';
import { resolveExternal, type CoalesceOptions } from './onnx-external.js';
import { parseOnnxModel, type OnnxModel } from './onnx.js';
import type { ProgressFn } from './types.js';

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface FetchOptions {
  onProgress?: ProgressFn;
  /** Defaults to globalThis.fetch. */
  fetch?: FetchFn;
  /** Refuse bodies larger than this (default 2 GiB − 1, the protobuf limit). */
  maxBytes?: number;
}

async function get(f: FetchFn, url: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await f(url, init);
  } catch (e) {
    throw new SourceReadError(`fetch failed: ${(e as Error).message}`, { file: url });
  }
  if (!res.ok) throw new SourceReadError(`HTTP ${res.status} ${res.statusText}`, { file: url });
  return res;
}

/** Downloads a whole file, reporting progress as chunks arrive (total 0 when the server sends no length). */
export async function fetchBytes(url: string, opts: FetchOptions = {}): Promise<Uint8Array> {
  const f = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const max = opts.maxBytes ?? 2 ** 31 - 1;
  const res = await get(f, url);
  const total = Number(res.headers.get('content-length') ?? 0);
  if (total > max) throw new SourceReadError(`${total} bytes is over the ${max}-byte limit`, { file: url });
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  let buf = allocBytes(total || 1 << 20, { file: url });
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > max) throw new SourceReadError(`body over the ${max}-byte limit`, { file: url });
    if (loaded + value.length > buf.length) {
      const grown = allocBytes(Math.min(max, Math.max(buf.length * 2, loaded + value.length)), { file: url });
      grown.set(buf.subarray(0, loaded));
      buf = grown;
    }
    buf.set(value, loaded);
    loaded += value.length;
    opts.onProgress?.({ file: url, loaded, total });
  }
  return buf.subarray(0, loaded);
}

/** Range reads over HTTP; servers must answer 206 (a 200 with the whole body is accepted only for whole-file reads). */
export class HttpSource implements ByteSource {
  private bytes = -1;
  constructor(readonly name: string, private readonly f: FetchFn = globalThis.fetch.bind(globalThis)) {}

  async size(): Promise<number> {
    if (this.bytes >= 0) return this.bytes;
    const res = await get(this.f, this.name, { method: 'HEAD' });
    const n = Number(res.headers.get('content-length'));
    if (!Number.isSafeInteger(n) || n < 0) throw new SourceReadError('server sent no Content-Length', { file: this.name });
    this.bytes = n;
    return n;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, offset, length, await this.size());
    if (length === 0) return new Uint8Array(0);
    const res = await get(this.f, this.name, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
    if (res.status !== 206 && !(res.status === 200 && offset === 0 && length === this.bytes)) {
      throw new SourceReadError(`server ignored the Range request (HTTP ${res.status})`, { file: this.name });
    }
    const out = new Uint8Array(await res.arrayBuffer());
    if (out.length !== length) throw new CorruptFileError(`asked for ${length} bytes at ${offset}, got ${out.length}`, { file: this.name });
    return out;
  }
}

/** Loads an ONNX model from a URL; external data is Range-read from files beside it. */
export async function loadOnnxUrl(
  url: string,
  opts: FetchOptions & { maxTensorBytes?: number; maxTotalBytes?: number; coalesce?: CoalesceOptions } = {},
): Promise<OnnxModel> {
  const f = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const bytes = await fetchBytes(url, opts);
  const parsed = parseOnnxModel(bytes, url, { external: 'defer', maxTensorBytes: opts.maxTensorBytes });
  const base = new URL('.', url);
  return resolveExternal(parsed, async (rel) => new HttpSource(new URL(rel.split('/').map(encodeURIComponent).join('/'), base).href, f), {
    file: url,
    onProgress: opts.onProgress,
    maxBytes: opts.maxTotalBytes,
    alreadyLoaded: bytes.length,
    coalesce: opts.coalesce,
  });
}
