/**
 * The CLI's command table. Each command lives in its own module and is imported only when run, so that
 * `cosyvoice-webgpu info` does not load ONNX Runtime and `convert` does not start a GPU device.
 */
export type Command = (argv: string[]) => Promise<number>;

export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  inspect: {
    summary: 'list the tensors (name, dtype, shape) of an .onnx, .pt or .safetensors file, or what a speaker file (.cvspk) holds',
    load: async () => (await import('./inspect.js')).inspectCommand,
  },
  synth: {
    summary: 'text → 24 kHz WAV, or a source WAV\'s speech in a voice (--source-wav); default: built-in synthetic model, not speech',
    load: async () => (await import('./synth.js')).synthCommand,
  },
  speaker: {
    summary: 'a voice (speaker file) from a prompt WAV and its transcript, with the folder\'s speech tokenizer and CAMPPlus run on the CPU',
    load: async () => (await import('./speaker.js')).speakerCommand,
  },
  serve: {
    summary: 'one loaded pipeline behind HTTP for concurrent clients: POST /tts {"text": "…"} → audio/wav',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  tune: {
    summary: 'measure this adapter\'s fastest kernel tiles and forms for the models → a tuning table for synth --tuning',
    load: async () => (await import('./tune.js')).tuneCommand,
  },
  convert: {
    summary: 'official CosyVoice3 folder → our ONNX files + cosyvoice.json',
    load: async () => (await import('./convert.js')).convertCommand,
  },
  verify: {
    summary: 'run every manifest test of a fixture folder on an engine (webgpu | ort)',
    load: async () => (await import('./verify.js')).verifyCommand,
  },
  bench: {
    summary: 'run a benchmark suite (kernels, …) side by side with onnxruntime-node',
    load: async () => (await import('./bench.js')).benchCommand,
  },
  info: { summary: 'print the WebGPU adapter, features and limits', load: async () => (await import('./info.js')).infoCommand },
};
