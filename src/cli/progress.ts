/**
 * A one-line progress display on stderr for model loading (only when stderr is a terminal or forced). A lazy load
 * reports the weights as the engine reads them into place; done() is called once the engine is built and draws
 * the bar full (a table read a row at a time, like Qwen2's text embeddings, never counts as read).
 */
import type { Progress } from '../../loader/index.js';

export function progressPrinter(enabled = process.stderr.isTTY): ((p: Progress) => void) & { done(): void; log(line: string): void } {
  const files = new Map<string, Progress>();
  let last = 0;
  let drawn = false;
  const draw = () => {
    drawn = true;
    let loaded = 0, total = 0;
    for (const f of files.values()) {
      loaded += f.loaded;
      total += f.total;
    }
    const frac = total ? loaded / total : 0;
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    process.stderr.write(`\rloading [${bar}] ${(loaded / 2 ** 20).toFixed(1)} / ${(total / 2 ** 20).toFixed(1)} MiB`);
  };
  const fn = (p: Progress) => {
    files.set(p.file, p);
    const now = Date.now();
    if (!enabled || (now - last < 100 && p.loaded < p.total)) return;
    last = now;
    draw();
  };
  return Object.assign(fn, {
    done() {
      if (!enabled || !files.size) return;
      for (const [k, f] of files) files.set(k, { ...f, loaded: f.total });
      draw();
      process.stderr.write('\n');
      drawn = false;
      files.clear();
    },
    /** A line on stdout while the bar may be showing: the bar is cleared, then drawn again below it. */
    log(line: string) {
      if (drawn) process.stderr.write('\r\x1b[K');
      console.log(line);
      if (drawn) draw();
    },
  });
}
