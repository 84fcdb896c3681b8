/** A one-line progress display on stderr for model loading (only when stderr is a terminal or forced). */
import type { Progress } from '../../loader/index.js';

export function progressPrinter(enabled = process.stderr.isTTY): ((p: Progress) => void) & { done(): void } {
  const files = new Map<string, Progress>();
  let last = 0;
  const fn = (p: Progress) => {
    files.set(p.file, p);
    const now = Date.now();
    if (!enabled || (now - last < 100 && p.loaded < p.total)) return;
    last = now;
    let loaded = 0, total = 0;
    for (const f of files.values()) {
      loaded += f.loaded;
      total += f.total;
    }
    const frac = total ? loaded / total : 0;
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    process.stderr.write(`\rloading [${bar}] ${(loaded / 2 ** 20).toFixed(1)} / ${(total / 2 ** 20).toFixed(1)} MiB`);
  };
  return Object.assign(fn, {
    done() {
      if (enabled && files.size) process.stderr.write('\n');
    },
  });
}
