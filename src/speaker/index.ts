export {
  SpeakerFileError,
  decodeSpeaker,
  encodeSpeaker,
  speakerFromJson,
  speakerToJson,
  validateSpeaker,
} from './speaker-file.js';
export type { SpeakerExpectations, SpeakerPrompt } from './speaker-file.js';
export { loadSpeakerFile, saveSpeakerFile } from './speaker-io.js';
export { speakerFromSources } from './from-audio.js';
export type { SpeakerSources } from './from-audio.js';
