/**
 * `cosyvoice-webgpu convert <official-model-dir> <out-dir> [--dtype fp32|fp16|int8] [--force]
 *  [--external-threshold-mb N]`: writes llm.onnx, llm_embed.onnx, flow_encoder.onnx, flow.onnx, hift.onnx and
 * cosyvoice.json (see src/convert/index.ts). Bad input prints the typed error and exits 1; usage errors exit 2.
 */
import { parseArgs } from 'node:util';
import { convertModel } from '../../convert/index.js';
import { ConvertError } from '../../convert/errors.js';

const HELP = `usage: cosyvoice-webgpu convert <official-model-dir> <out-dir> [options]
  --dtype fp32|fp16|int8      initializer storage (default fp32; int8 = per-channel Linear weights)
  --force                     replace an existing <out-dir>
  --external-threshold-mb N   files whose weights pass N MiB use external data (default 1024)`;

export async function convertCommand(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseArgs({
      args: argv, allowPositionals: true,
      options: { dtype: { type: 'string', default: 'fp32' }, force: { type: 'boolean', default: false },
        'external-threshold-mb': { type: 'string' }, help: { type: 'boolean', default: false } },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (a.values.help) {
    console.log(HELP);
    return 0;
  }
  const dtype = a.values.dtype as string;
  if (a.positionals.length !== 2 || !['fp32', 'fp16', 'int8'].includes(dtype)) {
    console.error(HELP);
    return 2;
  }
  const mb = a.values['external-threshold-mb'];
  try {
    const r = await convertModel(a.positionals[0], a.positionals[1], {
      dtype: dtype as 'fp32' | 'fp16' | 'int8', force: a.values.force,
      externalThreshold: mb !== undefined ? Number(mb) * 2 ** 20 : undefined, log: (m) => console.error(m),
    });
    console.log(`converted ${a.positionals[0]} → ${a.positionals[1]} (${dtype}) in ${r.seconds.toFixed(1)} s`);
    for (const [f, n] of Object.entries(r.files)) console.log(`  ${f.padEnd(24)} ${(n / 2 ** 20).toFixed(1)} MiB`);
    return 0;
  } catch (e) {
    if (e instanceof ConvertError || (e as Error).name.endsWith('Error')) {
      console.error(`${(e as Error).name}: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}
