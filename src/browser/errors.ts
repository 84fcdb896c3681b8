/**
 * Typed errors of the browser layer (model download/cache, worker protocol). They cross the Worker boundary as
 * {name, message}; the page-side client rebuilds an Error with the same `name`, so callers can branch on it.
 */

export class BrowserRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Storing a model file (Cache API or OPFS) failed, or would, because the origin's storage quota is used up. */
export class ModelCacheQuotaError extends BrowserRuntimeError {
  constructor(
    readonly file: string,
    readonly bytes: number,
    detail: string,
  ) {
    super(
      `no storage quota left to cache ${file} (${bytes} bytes): ${detail}; free space for this site ` +
        `(clearModelCache(), site settings) or load with { cache: false } to download without caching`,
    );
  }
}

/** The model cache cannot be cleared while a Worker has its files open (an engine reads its weights in place). */
export class ModelCacheBusyError extends BrowserRuntimeError {}

/** An HTTP fetch of a model file failed (network error, non-2xx status, server without Range support). */
export class ModelFetchError extends BrowserRuntimeError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`cannot download ${file}: ${detail}`);
  }
}

/** The model folder holds no model this runtime knows how to run (or one whose engine is not built in yet). */
export class UnsupportedModelError extends BrowserRuntimeError {}

/** A message the worker or client did not expect (wrong order, unknown id, a call after dispose). */
export class WorkerProtocolError extends BrowserRuntimeError {}

/** An error that came back from the worker: `name` is the original class name (e.g. ModelCacheQuotaError). */
export class WorkerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Whether an exception thrown by Cache.put / OPFS writes means "quota exceeded" (DOMException names differ a bit). */
export function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? '';
  const msg = String((e as { message?: string } | null)?.message ?? '');
  return name === 'QuotaExceededError' || /quota/i.test(msg);
}
