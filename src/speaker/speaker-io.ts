/**
 * Node file helpers for speaker prompts: `.json` paths use the plain-JSON form, anything else the binary
 * `.cvspk` form. Writes go to a temporary file first and are renamed into place, so a failed save never leaves
 * a partial speaker file behind.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import {
  SpeakerFileError,
  decodeSpeaker,
  encodeSpeaker,
  speakerFromJson,
  speakerToJson,
  type SpeakerExpectations,
  type SpeakerPrompt,
} from './speaker-file.js';

export function saveSpeakerFile(path: string, s: SpeakerPrompt): void {
  const data = path.endsWith('.json') ? speakerToJson(s) : encodeSpeaker(s);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function loadSpeakerFile(path: string, expect: SpeakerExpectations = {}): SpeakerPrompt {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SpeakerFileError('path', `cannot read ${path} (${(e as Error).message})`);
  }
  try {
    return path.endsWith('.json') ? speakerFromJson(bytes.toString('utf8'), expect) : decodeSpeaker(new Uint8Array(bytes), expect);
  } catch (e) {
    if (e instanceof SpeakerFileError) e.message = `${path}: ${e.message}`;
    throw e;
  }
}
