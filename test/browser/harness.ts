/**
 * Browser test harness: builds dist/web, runs scripts/serve.mjs on a free port of 127.0.0.1 (request log captured),
 * and launches Debian's Chromium through playwright-core with WebGPU on (SwiftShader) and a fresh profile.
 * Nothing is skipped: a missing Chromium or a page without WebGPU fails the test with a message saying what to do.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ModelSource } from '../../src/browser/model-source.js';
import { MemorySource } from '../../loader/byte-source.js';
import { PathSource } from '../../loader/node-source.js';
import type { ByteSource } from '../../loader/byte-source.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export function buildWeb(extra: string[] = []): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), ...extra], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build-web.mjs failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

export interface LoggedRequest {
  method: string;
  path: string;
  range: string | null;
  status: number;
  bytes: number;
}

export interface Server {
  url: string;
  requests: LoggedRequest[];
  close(): void;
}

export async function startServer(args: string[] = []): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', '0', '--log', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const requests: LoggedRequest[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`serve.mjs did not start in 10 s: ${stderr}`)), 10_000);
    child.on('exit', (code) => reject(new Error(`serve.mjs exited ${code}: ${stderr}`)));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        } else if (line.startsWith('{')) requests.push(JSON.parse(line) as LoggedRequest);
      }
    });
  });
  return { url, requests, close: () => void child.kill('SIGTERM') };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // SwiftShader runs WebGPU on the CPU, where one submit (a whole 10-step flow solve) takes seconds on a loaded
  // 2-core machine: keep Chromium's GPU watchdog from treating that as a hang. (A precaution: the device losses
  // seen while writing these tests came from a shader form SwiftShader cannot run, not from the watchdog.)
  '--disable-gpu-watchdog',
  // The demo page's microphone recording: Chromium's fake capture device (a beeping tone), permission granted.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

export interface Browser {
  context: BrowserContext;
  userDataDir: string;
  close(): Promise<void>;
}

/**
 * A persistent context over a fresh profile folder, so the Cache API and OPFS survive a page reload within one test.
 * `webgpu: false` launches a browser without WebGPU (the CPU fallback's test).
 */
export async function launchChromium(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'cosyvoice-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: opts.webgpu === false ? [...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'), '--disable-features=WebGPU,Vulkan', '--disable-gpu'] : CHROMIUM_ARGS,
    viewport: { width: 960, height: 900 },
  });
  return {
    context,
    userDataDir,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** ModelSource over a local folder (the Node side of the browser comparison). */
export { DirModelSource } from '../../src/browser/dir-model-source.js';

export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/**
 * The demo page's client.prepareSpeaker on a 60-token prompt (120 frames: two whole 50-frame chunks before the
 * look-ahead cut), on the default speaker (no prompt), and on a speaker with a wrong embedding length: what each gave.
 */
export function prepareSpeakerInPage(page: Page): Promise<{ kept: boolean; none: boolean; refused: string }> {
  return page.evaluate(async () => {
    const c = (globalThis as any).cosyvoiceDemo.client;
    const n = 60;
    const speaker = {
      promptTokens: Int32Array.from({ length: n }, (_, i) => (i * 37) % 100),
      promptMel: Float32Array.from({ length: 2 * n * 80 }, (_, i) => -6 + (4 * ((i * 7919) % 1000)) / 1000),
      embedding: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i)),
      promptText: 'a prompt',
    };
    const kept = await c.prepareSpeaker(speaker);
    const none = await c.prepareSpeaker(null);
    let refused = '';
    try {
      await c.prepareSpeaker({ ...speaker, embedding: new Float32Array(3) });
    } catch (e) {
      refused = `${(e as Error).name}: ${(e as Error).message}`;
    }
    return { kept, none, refused };
  });
}
