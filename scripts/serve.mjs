// Tiny static dev server for the demo: serves dist/web (and extra model folders) on 127.0.0.1 with HTTP Range
// support (single ranges: bytes=a-b, a-, -n), HEAD, and `Cache-Control: no-store` so that what the page does not
// download again comes from its own model cache, not the HTTP cache. Pages are cross-origin isolated (COOP/COEP):
// SharedArrayBuffer then exists, which the CPU fallback's GEMM threads need (kernels/cpu-threads.ts).
// Usage: node scripts/serve.mjs [--port 8080] [--root dist/web] [--mount /models/full=/path/to/folder]... [--log]
// Prints `serving http://127.0.0.1:<port>/` once listening (port 0 picks a free one); --log prints one JSON line
// per request ({method, path, range, status, bytes}) for tests.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    root: { type: 'string', default: 'dist/web' },
    mount: { type: 'string', multiple: true, default: [] },
    log: { type: 'boolean', default: false },
  },
});

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.wav': 'audio/wav',
};

// Longest URL prefix first, so /models/full=… wins over the root.
const mounts = [...values.mount.map((m) => {
  const i = m.indexOf('=');
  if (i < 1) throw new Error(`--mount wants /url/prefix=/folder, got ${m}`);
  return { prefix: m.slice(0, i).replace(/\/?$/, '/'), dir: resolve(m.slice(i + 1)) };
}), { prefix: '/', dir: resolve(values.root) }].sort((a, b) => b.prefix.length - a.prefix.length);

/** Maps a URL path to a file inside one of the mounts, or null (never outside them). */
function fileFor(pathname) {
  let p;
  try {
    p = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (p.includes('\0')) return null;
  for (const m of mounts) {
    if (!(p + '/').startsWith(m.prefix) && p !== m.prefix.slice(0, -1)) continue;
    const full = resolve(m.dir, '.' + sep + p.slice(m.prefix.length));
    if (full !== m.dir && !full.startsWith(m.dir + sep)) return null;
    return full;
  }
  return null;
}

/** Parses one `bytes=` range against a size: {start, end} inclusive, 'bad' (416) or null (no/ignored header). */
function parseRange(header, size) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // multi-range or garbage: answer the whole file
  let start, end;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'bad';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'bad';
  return { start, end };
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const done = (status, bytes = 0) => {
    if (values.log) console.log(JSON.stringify({ method: req.method, path: url.pathname, range: req.headers.range ?? null, status, bytes }));
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return done(405);
  }
  let file = fileFor(url.pathname);
  let st;
  try {
    st = file && statSync(file);
    if (st && st.isDirectory()) {
      file = join(file, 'index.html');
      st = statSync(file);
    }
  } catch {
    st = null;
  }
  if (!file || !st || !st.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return done(404);
  }
  const headers = {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  };
  const range = parseRange(req.headers.range, st.size);
  if (range === 'bad') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end();
    return done(416);
  }
  const { start, end } = range ?? { start: 0, end: st.size - 1 };
  const length = st.size === 0 ? 0 : end - start + 1;
  const status = range ? 206 : 200;
  res.writeHead(status, { ...headers, 'content-length': String(length), ...(range ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}) });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return done(status, 0);
  }
  createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
  done(status, length);
});

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`serving http://127.0.0.1:${server.address().port}/ (root ${mounts.at(-1).dir})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
