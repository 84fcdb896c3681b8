/** Node entry: everything in the browser-safe surface plus Node's device and file access. */
export * from './index.js';
export { requestNodeDevice, nodeGpu } from './gpu/node-device.js';
export { loadShadersFromDisk } from './gpu/node-shaders.js';
export { loadModelFolder, folderKind, ModelFolderError } from './pipeline/node-model-files.js';
export { loadTokenizerDir } from './text/load.js';
export { loadSpeakerFile, saveSpeakerFile } from './speaker/index.js';
export { loadPromptModels, syntheticPromptModels, MissingPromptModelError } from './speaker/prompt-models-node.js';
export { convertModel } from './convert/index.js';
export { readTuningFile, writeTuningFile } from './tune/file.js';
