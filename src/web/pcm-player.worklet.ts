/**
 * AudioWorklet processor "pcm-player": plays mono float32 chunks pushed from the page as they arrive, on every
 * output channel. Messages in: {type:'push', pcm} (transferred), {type:'end'} (no more chunks for this utterance),
 * {type:'clear'} (drop everything, e.g. on cancel). Messages out every ~50 ms and on changes:
 * {type:'status', played, buffered, underruns, drained} — `played` counts samples sent to the output, `underruns`
 * counts gaps where the queue ran dry before 'end' (synthesis slower than real time), `drained` once 'end' was
 * received and the queue is empty.
 * Runs on the audio rendering thread: no allocation in process() beyond what the messages bring.
 */
export {};

declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor();
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;

type PlayerMessage = { type: 'push'; pcm: Float32Array } | { type: 'end' } | { type: 'clear' };

class PcmPlayer extends AudioWorkletProcessor {
  private queue: Float32Array[] = [];
  private head = 0;
  private buffered = 0;
  private played = 0;
  private underruns = 0;
  private starving = false;
  private ended = false;
  private reportedDrained = false;
  private quanta = 0;

  constructor() {
    super();
    this.port.onmessage = (ev: MessageEvent<PlayerMessage>) => {
      const m = ev.data;
      if (m.type === 'push') {
        if (this.ended || this.reportedDrained) this.reset();
        this.queue.push(m.pcm);
        this.buffered += m.pcm.length;
      } else if (m.type === 'end') {
        this.ended = true;
      } else if (m.type === 'clear') {
        this.reset();
        this.report();
      }
    };
  }

  private reset(): void {
    this.queue = [];
    this.head = 0;
    this.buffered = 0;
    this.played = 0;
    this.underruns = 0;
    this.starving = false;
    this.ended = false;
    this.reportedDrained = false;
  }

  private report(): void {
    const drained = this.ended && this.buffered === 0;
    this.port.postMessage({ type: 'status', played: this.played, buffered: this.buffered, underruns: this.underruns, drained });
    if (drained) this.reportedDrained = true;
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    const first = out[0];
    if (!first) return true;
    let o = 0;
    while (o < first.length && this.queue.length) {
      const chunk = this.queue[0];
      const n = Math.min(first.length - o, chunk.length - this.head);
      first.set(chunk.subarray(this.head, this.head + n), o);
      o += n;
      this.head += n;
      if (this.head === chunk.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
    this.played += o;
    this.buffered -= o;
    first.fill(0, o);
    for (let c = 1; c < out.length; c++) out[c].set(first);
    // A gap in the middle of an utterance (started, not ended, queue dry) is one underrun until audio resumes.
    const dry = o < first.length && this.played > 0 && !this.ended;
    if (dry && !this.starving) this.underruns++;
    this.starving = dry;
    if (++this.quanta % 16 === 0 && !this.reportedDrained && (this.played > 0 || this.ended)) this.report();
    return true;
  }
}

registerProcessor('pcm-player', PcmPlayer);
