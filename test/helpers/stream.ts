/** Every item of a stream (PCM chunks, tokens), in order (the generator's return value is dropped). */
export async function collect<T = Float32Array>(gen: AsyncGenerator<T, unknown>): Promise<T[]> {
  const out: T[] = [];
  for (let r = await gen.next(); !r.done; r = await gen.next()) out.push(r.value);
  return out;
}
