/**
 * scripts/serve.mjs: single Range forms (a-b, a-, -n) answer 206 with the right bytes and Content-Range, an
 * unsatisfiable range answers 416, HEAD gives the length without a body, --mount serves an extra folder, and no
 * path (dot segments, encoded or not) reaches outside the served folders.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from './harness.js';

describe('scripts/serve.mjs', () => {
  let server: Server;
  let dir: string;
  const body = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serve-test-'));
    const site = join(dir, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'w.bin'), body);
    writeFileSync(join(site, 'index.html'), '<p>root</p>');
    writeFileSync(join(dir, 'secret.txt'), 'secret'); // beside the served folder: must stay unreachable
    server = await startServer(['--root', site, '--mount', `/extra=${site}`]);
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(new URL(path, server.url), { headers, method });

  it('answers Range requests', async () => {
    for (const [range, from, to] of [['bytes=10-19', 10, 19], ['bytes=990-', 990, 999], ['bytes=-5', 995, 999], ['bytes=900-5000', 900, 999]] as const) {
      const res = await get('/w.bin', { Range: range });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${from}-${to}/1000`);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(body.subarray(from, to + 1));
    }
    const whole = await get('/w.bin');
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('cache-control')).toBe('no-store');
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(body);
    expect((await get('/w.bin', { Range: 'bytes=1000-1001' })).status).toBe(416);
    const head = await get('/w.bin', {}, 'HEAD');
    expect(head.headers.get('content-length')).toBe('1000');
    expect((await get('/extra/w.bin', { Range: 'bytes=0-0' })).status).toBe(206);
    expect(await (await get('/')).text()).toContain('root');
  });

  it('never serves outside its folders', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/extra/..%2fsecret.txt', '/extra/%2e%2e/secret.txt', '/%00', '/missing.bin']) {
      const res = await fetch(`${server.url.replace(/\/$/, '')}${p}`);
      expect(res.status, p).toBe(404);
    }
  });
});
