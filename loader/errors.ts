/**
 * Typed loader errors. Every reader throws only subclasses of LoaderError for bad input, so callers (and the fuzz
 * test) can tell "this file is broken or hostile" apart from a bug. Messages name the file and, where known, the
 * tensor, so a user can tell which download is damaged.
 */

export interface LoaderErrorInfo {
  /** File the problem was found in (path or URL as given to the reader). */
  file?: string;
  /** Tensor (initializer / state_dict key) being read when it happened. */
  tensor?: string;
}

function where(info: LoaderErrorInfo): string {
  const parts: string[] = [];
  if (info.file) parts.push(`file ${info.file}`);
  if (info.tensor) parts.push(`tensor ${info.tensor}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export class LoaderError extends Error {
  readonly file?: string;
  readonly tensor?: string;
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message + where(info));
    this.name = 'LoaderError';
    this.file = info.file;
    this.tensor = info.tensor;
  }
}

/** Truncated, garbage, wrong magic, offsets out of range, sizes that disagree with dims. */
export class CorruptFileError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'CorruptFileError';
  }
}

/** A path (external data location, symlink target) that would read outside the model folder. */
export class UnsafePathError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'UnsafePathError';
  }
}

/** A pickle opcode or global outside the small state_dict vocabulary; nothing is ever executed. */
export class UnsupportedPickleError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'UnsupportedPickleError';
  }
}

/** A tensor that a file refers to (or a caller asked for) is not there. */
export class MissingTensorError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'MissingTensorError';
  }
}

/** A dtype this loader does not support (string tensors, float8, complex, uint16 ...) or an impossible conversion. */
export class DTypeError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'DTypeError';
  }
}

/** A tensor or file bigger than the configured limit: rejected before anything is allocated. */
export class SizeLimitError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'SizeLimitError';
  }
}

/** Reading bytes failed for a reason outside the file's content (missing file, HTTP status, I/O error). */
export class SourceReadError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'SourceReadError';
  }
}

/** A config file (yaml / config.json) without a value the runtime needs, or with the wrong type. */
export class ConfigError extends LoaderError {
  constructor(message: string, info: LoaderErrorInfo = {}) {
    super(message, info);
    this.name = 'ConfigError';
  }
}
