/** Typed converter errors: each names the file and the tensors at fault so the user knows what to fix. */

export class ConvertError extends Error {
  override name = 'ConvertError';
}

/** A required input file is absent. */
export class MissingFileError extends ConvertError {
  override name = 'MissingFileError';
  constructor(readonly path: string, hint = '') {
    super(`missing file ${path}${hint ? `: ${hint}` : ''}`);
  }
}

/** state_dict keys differ from what the architecture (read from the yaml) needs. */
export class StateDictKeysError extends ConvertError {
  override name = 'StateDictKeysError';
  constructor(readonly file: string, readonly missing: string[], readonly unexpected: string[]) {
    const list = (xs: string[]) => xs.slice(0, 20).join(', ') + (xs.length > 20 ? `, … (${xs.length} in all)` : '');
    super(
      `${file}: state_dict does not match the architecture in cosyvoice3.yaml` +
        (missing.length ? `; missing keys: ${list(missing)}` : '') +
        (unexpected.length ? `; unexpected keys: ${list(unexpected)}` : ''),
    );
  }
}

/** A tensor's shape disagrees with the yaml/config dims. */
export class ShapeMismatchError extends ConvertError {
  override name = 'ShapeMismatchError';
  constructor(readonly file: string, readonly tensor: string, readonly actual: number[], readonly expected: number[]) {
    super(`${file}: tensor ${tensor} has shape [${actual}] but the yaml/config implies [${expected}]`);
  }
}

/** The output folder exists and --force was not given. */
export class OutputExistsError extends ConvertError {
  override name = 'OutputExistsError';
  constructor(readonly path: string) {
    super(`output folder ${path} already exists (use --force to replace it)`);
  }
}
