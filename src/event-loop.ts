/**
 * One turn of the event loop (a macrotask, not a microtask): setImmediate in Node, a MessageChannel hop in browsers
 * and workers (setTimeout(0) is clamped to 4 ms once nested). Lets other work in the same thread run: timers,
 * sockets, a Worker's messages, other syntheses' steps.
 */
export function nextTurn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => (ch.port1.close(), r());
    ch.port2.postMessage(0);
  });
}
