import { describe, it } from 'vitest';
import { verifyKinds } from './helpers.js';

describe('wasm engine: LLM on the tiny official fixtures', () => {
  it('teacher-forced, incremental KV, greedy and RAS sets pass verify', async () => {
    await verifyKinds(['llm_teacher_forced', 'llm_incremental_kv', 'llm_greedy', 'llm_ras_argmax']);
  });
});
