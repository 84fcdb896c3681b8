/** Every chunk of a PCM stream, in order (the generator's return value is dropped). */
export async function collect(gen: AsyncGenerator<Float32Array, unknown>): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let r = await gen.next(); !r.done; r = await gen.next()) out.push(r.value);
  return out;
}
