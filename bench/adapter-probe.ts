/**
 * Adapter probe: what one memory access costs next to arithmetic on this adapter, the measurement behind the
 * llvmpipe kernel shapes (README "Benchmarks") and the limits stated in the LLM and HiFT issues.
 *
 *   npx tsx bench/adapter-probe.ts [--groups 4096] [--iters 1024]   → bench/results/adapter-probe.json
 *
 * Every variant runs the same loop in workgroups of 8 invocations (one llvmpipe SIMD group): `iters` times
 * "fetch a vec4, fma it into an accumulator". Only the fetch differs:
 *   alu            no memory access (a register value): the loop and FMA cost, subtracted from the others;
 *   ssbo-lane      storage buffer, address differs per invocation (a weight row per lane);
 *   ssbo-same      storage buffer, one address for all 8 (a shared operand, address from the loop counter);
 *   ubo-lane       uniform buffer (≤ 64 KiB on most adapters), address per invocation;
 *   texture-lane   textureLoad of an rgba32float texel, coordinate per invocation;
 *   shared-lane    var<workgroup>, address per invocation;
 *   broadcast      subgroupBroadcast of a register vec4 from lane 3 (when the adapter has subgroups).
 * Reported: ns per workgroup-iteration, the fetch's cost after subtracting `alu`, and that cost in units of
 * the alu iteration (≈ one vec4 FMA per lane). GPU time from timestamp queries when present, else wall time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';

const { values: a } = parseArgs({ options: { groups: { type: 'string', default: '4096' }, iters: { type: 'string', default: '1024' } } });
const GROUPS = Number(a.groups), ITERS = Number(a.iters);
const N = 4096; // vec4 elements addressed (64 KiB: fits a uniform buffer and a 64×64 texture)
const handle = await requestNodeDevice();
const dev = handle.device;
const hasSubgroups = handle.features.has('subgroups');

const data = dev.createBuffer({ size: N * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
dev.queue.writeBuffer(data, 0, Float32Array.from({ length: N * 4 }, (_, i) => (i % 13) * 0.01));
const tex = dev.createTexture({ size: [64, 64], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
dev.queue.writeTexture({ texture: tex }, new Float32Array(N * 4).fill(0.5), { bytesPerRow: 64 * 16 }, [64, 64]);
const out = dev.createBuffer({ size: GROUPS * 8 * 4, usage: GPUBufferUsage.STORAGE });

// Addresses: `lane` differs per invocation; `same` only depends on the workgroup and the loop counter.
const LANE = `(wid.x * 977u + i * 8u + lid) & ${N - 1}u`;
const SAME = `(wid.x * 977u + i * 8u) & ${N - 1}u`;
const variants: { name: string; decl: string; fetch: string; needs?: string }[] = [
  { name: 'alu', decl: '', fetch: 'vec4<f32>(f32(i))' },
  { name: 'ssbo-lane', decl: '@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;', fetch: `a[${LANE}]` },
  { name: 'ssbo-same', decl: '@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;', fetch: `a[${SAME}]` },
  { name: 'ubo-lane', decl: `@group(0) @binding(0) var<uniform> a: array<vec4<f32>, ${N}>;`, fetch: `a[${LANE}]` },
  { name: 'texture-lane', decl: '@group(0) @binding(0) var a: texture_2d<f32>;', fetch: `textureLoad(a, vec2<u32>((${LANE}) % 64u, (${LANE}) / 64u), 0)` },
  // 16 KiB of workgroup memory (the WebGPU default limit is 16 KiB).
  { name: 'shared-lane', decl: 'var<workgroup> a: array<vec4<f32>, 1024>;', fetch: `a[(${LANE}) & 1023u]` },
  { name: 'broadcast', decl: '', fetch: 'subgroupBroadcast(vec4<f32>(f32(i + lid)), 3u)', needs: 'subgroups' },
];

function shader(v: (typeof variants)[number]): string {
  return `${v.needs === 'subgroups' ? 'enable subgroups;\n' : ''}${v.decl}
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var acc = vec4<f32>(0.0);
  for (var i = 0u; i < ${ITERS}u; i++) {
    acc = fma(${v.fetch}, vec4<f32>(1.0001), acc);
  }
  o[wid.x * 8u + lid] = acc.x + acc.y + acc.z + acc.w;
}`;
}

const timestamps = handle.features.has('timestamp-query');
const qs = timestamps ? dev.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
const resolve = dev.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
const readback = dev.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });

async function timeOnce(pl: GPUComputePipeline, bg: GPUBindGroup): Promise<number> {
  const enc = dev.createCommandEncoder();
  const pass = enc.beginComputePass(qs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
  pass.setPipeline(pl);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(GROUPS);
  pass.end();
  if (qs) {
    enc.resolveQuerySet(qs, 0, 2, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, readback, 0, 16);
  }
  const t0 = performance.now();
  dev.queue.submit([enc.finish()]);
  await dev.queue.onSubmittedWorkDone();
  const wall = performance.now() - t0;
  if (!qs) return wall;
  await readback.mapAsync(GPUMapMode.READ);
  const t = new BigUint64Array(readback.getMappedRange().slice(0));
  readback.unmap();
  return Number(t[1] - t[0]) / 1e6;
}

const rows: { variant: string; ms: number; nsPerIter: number; fetchNs: number | null; fetchInAluIters: number | null }[] = [];
let aluNs = 0;
for (const v of variants) {
  if (v.needs && !handle.features.has(v.needs)) continue;
  dev.pushErrorScope('validation');
  const module = dev.createShaderModule({ code: shader(v) });
  const pl = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const entries: GPUBindGroupEntry[] = [{ binding: 1, resource: { buffer: out } }];
  if (v.decl.includes('binding(0)')) entries.push({ binding: 0, resource: v.name.startsWith('texture') ? tex.createView() : { buffer: data } });
  const bg = dev.createBindGroup({ layout: pl.getBindGroupLayout(0), entries });
  await timeOnce(pl, bg);
  const err = await dev.popErrorScope();
  if (err) throw new Error(`adapter probe ${v.name}: ${err.message}`);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) times.push(await timeOnce(pl, bg));
  const ms = Math.min(...times);
  const nsPerIter = (ms * 1e6) / (GROUPS * ITERS);
  if (v.name === 'alu') aluNs = nsPerIter;
  const fetchNs = v.name === 'alu' ? null : nsPerIter - aluNs;
  rows.push({ variant: v.name, ms: +ms.toFixed(3), nsPerIter: +nsPerIter.toFixed(3), fetchNs: fetchNs === null ? null : +fetchNs.toFixed(3), fetchInAluIters: fetchNs === null ? null : +(fetchNs / aluNs).toFixed(2) });
}

const adapter = adapterLabel(handle.info);
console.log(`adapter: ${adapter}; ${GROUPS} workgroups × 8 invocations × ${ITERS} iterations; ${timestamps ? 'GPU timestamps' : 'wall time'}; subgroups ${hasSubgroups ? 'yes' : 'no'}`);
console.table(rows);
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'adapter-probe.json'), JSON.stringify({ date: new Date().toISOString(), adapter, info: handle.info, groups: GROUPS, iters: ITERS, timing: timestamps ? 'gpu-timestamp' : 'wall', rows }, null, 1) + '\n');
process.exit(0);
