// Builds the browser demo into dist/web/: worker.js (the model Worker, WGSL inlined), app.js (page),
// pcm-player.worklet.js (AudioWorklet), index.html + styles.css, and model folders under dist/web/models/:
//   tone/  the test-tone model (src/browser/tone-model.ts), always
//   tiny/  the tiny CosyVoice3 fixture converted by `cosyvoice-webgpu convert`, when the converter is present
//          (skipped with --no-tiny; kept when already newer than the fixture)
// and models/index.json listing them (the page's model picker). Browser bundles fail on any node: import.
// Usage: node scripts/build-web.mjs [--no-tiny] [--strict]   (--strict: a failed conversion fails the build)
import { build } from 'esbuild';
import { virtualShaders } from './esbuild-shaders.mjs';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/web');
const shaderDir = join(root, 'shaders');
const args = new Set(process.argv.slice(2));

const virtualShadersPlugin = virtualShaders(shaderDir);

// Node built-ins reached through modules that mix browser code with Node-only helpers (e.g. a `fromDir` loader next
// to the model class) are replaced by a stub that throws if it is ever called, and every such import is listed as a
// warning: the Worker never calls them, but they should move to Node-only files (test/browser/bundle.test.ts fails
// until they do).
const nodeStubs = new Map();
const nodeOnlyStub = {
  name: 'node-only-stub',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => {
      const list = nodeStubs.get(a.path) ?? new Set();
      list.add(a.importer.replace(root + '/', ''));
      nodeStubs.set(a.path, list);
      return { path: a.path, namespace: 'node-only-stub' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-only-stub' }, (a) => ({
      contents: `const fail = (k) => () => { throw new Error(${JSON.stringify(`Node-only module ${a.path}`)} + '.' + String(k) + ' called in the browser'); };
module.exports = new Proxy({}, { get: (_, k) => (k === '__esModule' ? false : fail(k)), has: () => true, ownKeys: () => [], getOwnPropertyDescriptor: () => undefined });`,
      loader: 'js',
    }));
  },
};

const t0 = Date.now();
mkdirSync(out, { recursive: true });
await build({
  entryPoints: {
    worker: join(root, 'src/browser/worker.ts'),
    app: join(root, 'src/web/app.ts'),
    'pcm-player.worklet': join(root, 'src/web/pcm-player.worklet.ts'),
  },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [virtualShadersPlugin, nodeOnlyStub],
});
for (const [mod, importers] of nodeStubs) console.warn(`build-web: warning: ${mod} stubbed in the browser bundle (imported by ${[...importers].join(', ')})`);
for (const f of ['index.html', 'styles.css']) copyFileSync(join(root, 'src/web', f), join(out, f));

// The tone model: bundle its generator and run it here, so the files come from the same code the engine reads with.
const gen = await build({ entryPoints: [join(root, 'src/browser/tone-model.ts')], bundle: true, format: 'esm', platform: 'neutral', write: false });
const { makeToneModel } = await import(`data:text/javascript;base64,${Buffer.from(gen.outputFiles[0].text).toString('base64')}`);
const tone = makeToneModel();
mkdirSync(join(out, 'models/tone'), { recursive: true });
writeFileSync(join(out, 'models/tone/tone.json'), JSON.stringify(tone.header, null, 2));
writeFileSync(join(out, 'models/tone/tone.bin'), tone.bin);
const models = [];

// The tiny CosyVoice3 fixture, converted with the project's converter (external data forced on so that the page
// exercises Range reads the way a full-size model does).
const fixture = join(root, '../shared/fixtures/tiny-cosyvoice3');
const tinyOut = join(out, 'models/tiny');
if (!args.has('--no-tiny') && existsSync(join(root, 'src/cli/commands/convert.ts')) && existsSync(fixture)) {
  const stamp = join(tinyOut, 'cosyvoice.json');
  const fresh = existsSync(stamp) && statSync(stamp).mtimeMs > statSync(join(fixture, 'llm.pt')).mtimeMs;
  if (!fresh) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'convert', fixture, tinyOut, '--force', '--external-threshold-mb', '0'],
      { cwd: root, encoding: 'utf8' },
    );
    if (r.status !== 0) {
      const msg = `tiny model conversion failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`;
      if (args.has('--strict')) throw new Error(msg);
      console.warn(`build-web: ${msg}; dist/web/models/tiny/ not built`);
    }
  }
  // Stopgap until the converter copies it: the runtime reads its dims from cosyvoice3.yaml.
  if (existsSync(stamp) && !existsSync(join(tinyOut, 'cosyvoice3.yaml'))) copyFileSync(join(fixture, 'cosyvoice3.yaml'), join(tinyOut, 'cosyvoice3.yaml'));
  // The prompt models (voices from audio): random stand-ins of their structure, as the official folder's files are
  // not part of the fixture (src/convert/random-prompt-models.ts, bundled and run here like the tone model).
  if (existsSync(stamp) && !existsSync(join(tinyOut, 'campplus.onnx'))) {
    const pm = await build({ entryPoints: [join(root, 'src/convert/random-prompt-models.ts')], bundle: true, format: 'esm', platform: 'node', write: false });
    const { writeRandomPromptModels } = await import(`data:text/javascript;base64,${Buffer.from(pm.outputFiles[0].text).toString('base64')}`);
    writeRandomPromptModels(tinyOut);
  }
  // Random weights: the LLM rarely says EOS, so the page pre-fills a fixed token count for this entry.
  if (existsSync(stamp)) models.push({ name: 'tiny CosyVoice3 fixture (random weights)', url: './models/tiny/', engine: 'cosyvoice', tokens: 30 });
}
models.push({ name: 'test tone', url: './models/tone/', engine: 'tone' });
writeFileSync(join(out, 'models/index.json'), JSON.stringify(models, null, 2));
console.log(`built dist/web (worker.js, app.js, pcm-player.worklet.js, models: ${models.map((m) => m.url).join(', ')}) in ${Date.now() - t0} ms`);
