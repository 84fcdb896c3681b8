/**
 * The CLI's command table. Each command lives in its own module and is imported only when run, so that
 * `cosyvoice-webgpu info` does not load ONNX Runtime and `convert` does not start a GPU device.
 */
export type Command = (argv: string[]) => Promise<number>;

export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  inspect: {
    summary: 'list the tensors (name, dtype, shape) of an .onnx, .pt or .safetensors file',
    load: async () => (await import('./inspect.js')).inspectCommand,
  },
  info: { summary: 'print the WebGPU adapter, features and limits', load: async () => (await import('./info.js')).infoCommand },
};
