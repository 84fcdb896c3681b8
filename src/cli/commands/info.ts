/** `cosyvoice-webgpu info`: the adapter, its features and the limits this runtime uses. */
import { adapterLabel, REQUIRED_LIMITS } from '../../gpu/device.js';
import { requestNodeDevice } from '../../gpu/node-device.js';

export async function infoCommand(_argv: string[]): Promise<number> {
  const h = await requestNodeDevice();
  console.log(`adapter:  ${adapterLabel(h.info)}`);
  console.log(`features: ${[...h.features].join(', ') || 'none'} (adapter has: ${h.info.features.join(', ')})`);
  const limits = h.device.limits as unknown as Record<string, number>;
  for (const k of Object.keys(REQUIRED_LIMITS)) console.log(`${k}: ${limits[k]} (need ≥ ${REQUIRED_LIMITS[k]})`);
  h.device.destroy();
  return 0;
}
