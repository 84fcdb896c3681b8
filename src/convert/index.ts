/**
 * `convert`: official CosyVoice3 folder → our ONNX files + cosyvoice.json.
 *
 * Output folder:
 *   llm.onnx           Qwen2 step (prefill/decode with KV) + llm_decoder head            (see llm.ts)
 *   llm_embed.onnx     text/speech embedding tables as Gathers                           (see llm.ts)
 *   flow_encoder.onnx  token embedding, PreLookahead, ×ratio repeat, speaker projection   (see flow-encoder.ts)
 *   flow.onnx          DiT estimator, upstream interface + `streaming`                   (see dit.ts)
 *   hift.onnx          mel (+ fixed uniform table) → waveform, with f0 and source        (see hift.ts)
 *   cosyvoice.json     dims, special ids, sampling, streaming constants, file list
 *   + campplus.onnx, speech_tokenizer_v3.onnx and CosyVoice-BlankEN tokenizer files when present (copied).
 * Files whose initializers pass `externalThreshold` get `<file>.data` external data.
 * dtype: fp32 keeps every weight fp32; fp16 stores weights as fp16 + Cast; int8 quantises every nn.Linear weight
 * per output channel (DequantizeLinear) and stores the embedding tables as fp16, convs and norms as fp32. The
 * HiFT F0 predictor is always float64 (upstream runs it in f64).
 * Everything is written to `<out>.tmp-<pid>` and renamed at the end, so a failed run leaves no partial folder.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StoreDType } from '../onnx/builder.js';
import type { Graph } from '../onnx/graph.js';
import { writeModel } from '../onnx/writer.js';
import type { CosyVoiceConfig } from './config.js';
import { buildDit, checkDitShapes, ditKeys } from './dit.js';
import { OutputExistsError } from './errors.js';
import { buildFlowEncoder, checkFlowEncoderShapes, flowEncoderKeys } from './flow-encoder.js';
import { buildHift, checkHiftShapes, hiftKeys } from './hift.js';
import { buildLlm, buildLlmEmbed, checkLlmShapes, llmKeys } from './llm.js';
import { readCheckpoint, readConfig } from './source.js';

export interface ConvertOptions {
  dtype?: StoreDType;
  force?: boolean;
  /** Initializer bytes above which a file uses external data (default 1 GiB). */
  externalThreshold?: number;
  log?: (msg: string) => void;
}

export interface ConvertResult {
  config: CosyVoiceConfig;
  files: Record<string, number>;
  seconds: number;
}

const COPY = ['cosyvoice3.yaml', 'campplus.onnx', 'speech_tokenizer_v3.onnx', 'CosyVoice-BlankEN/config.json', 'CosyVoice-BlankEN/vocab.json',
  'CosyVoice-BlankEN/merges.txt', 'CosyVoice-BlankEN/tokenizer_config.json', 'CosyVoice-BlankEN/generation_config.json',
  'CosyVoice-BlankEN/tokenizer.json'];

export async function convertModel(modelDir: string, outDir: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const t0 = performance.now();
  const dtype = opts.dtype ?? 'fp32';
  const log = opts.log ?? (() => {});
  if (existsSync(outDir) && !opts.force) throw new OutputExistsError(outDir);
  const cfg = readConfig(modelDir, dtype);

  // read and check everything before writing anything
  const llm = await readCheckpoint(modelDir, 'llm.pt');
  llm.checkKeys(llmKeys(cfg.llm), (k) => k === 'llm.model.lm_head.weight');
  checkLlmShapes(llm, cfg.llm);
  const flow = await readCheckpoint(modelDir, 'flow.pt');
  flow.checkKeys([...ditKeys(cfg.flow), ...flowEncoderKeys()]);
  checkDitShapes(flow, cfg.flow);
  checkFlowEncoderShapes(flow, cfg.flow);
  const hift = await readCheckpoint(modelDir, 'hift.pt');
  hift.stripPrefix('generator.');
  hift.foldWeightNorm();
  hift.checkKeys(hiftKeys(cfg.hift));
  checkHiftShapes(hift, cfg.hift);
  log(`read checkpoints in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const files: Record<string, number> = {};
  try {
    const emit = (name: string, build: () => Graph) => {
      const t = performance.now();
      const g = build();
      g.metadata.dtype = dtype;
      const r = writeModel(g, join(tmp, name), { externalThreshold: opts.externalThreshold ?? 2 ** 30 });
      files[name] = r.onnxBytes;
      if (r.dataFile) files[r.dataFile] = r.dataBytes;
      cfg.files[name.replace('.onnx', '')] = name;
      log(`wrote ${name} (${((r.onnxBytes + r.dataBytes) / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    };
    emit('llm.onnx', () => buildLlm(llm, cfg.llm, dtype));
    emit('llm_embed.onnx', () => buildLlmEmbed(llm, cfg.llm, dtype));
    emit('flow_encoder.onnx', () => buildFlowEncoder(flow, cfg.flow, dtype));
    emit('flow.onnx', () => buildDit(flow, cfg.flow, dtype));
    emit('hift.onnx', () => buildHift(hift, cfg.hift, dtype));
    for (const f of COPY) {
      if (existsSync(join(modelDir, f))) {
        mkdirSync(dirname(join(tmp, f)), { recursive: true });
        copyFileSync(join(modelDir, f), join(tmp, f));
      }
    }
    writeFileSync(join(tmp, 'cosyvoice.json'), JSON.stringify(cfg, null, 2) + '\n');
    if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { config: cfg, files, seconds: (performance.now() - t0) / 1000 };
}
