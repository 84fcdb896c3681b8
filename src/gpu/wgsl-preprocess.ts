/**
 * A deliberately tiny WGSL preprocessor: `#include "name"`, `#ifdef X` / `#ifndef X` / `#else` / `#endif`
 * (nestable), and `{{NAME}}` constant substitution. No expressions: variants are chosen by defines, and the
 * define object (sorted) is the pipeline cache key.
 */
import { ShaderError } from './errors.js';

export type DefineValue = number | boolean | string;
export type Defines = Readonly<Record<string, DefineValue>>;

export function preprocessWgsl(
  name: string,
  source: string,
  defines: Defines,
  resolveInclude: (name: string) => string,
  depth = 0,
): string {
  if (depth > 8) throw new ShaderError(`${name}: #include nesting deeper than 8 (cycle?)`);
  const out: string[] = [];
  // Each entry: is this branch active, and has any branch of this #if group been taken?
  const stack: { active: boolean; parentActive: boolean }[] = [];
  const active = () => (stack.length === 0 ? true : stack[stack.length - 1].active);
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const t = line.trim();
    const where = `${name}.wgsl:${i + 1}`;
    if (t.startsWith('#ifdef ') || t.startsWith('#ifndef ')) {
      const neg = t.startsWith('#ifndef');
      const key = t.split(/\s+/)[1];
      const v = defines[key];
      const defined = v !== undefined && v !== false;
      const parentActive = active();
      stack.push({ active: parentActive && (neg ? !defined : defined), parentActive });
    } else if (t === '#else') {
      const top = stack[stack.length - 1];
      if (!top) throw new ShaderError(`${where}: #else without #ifdef`);
      top.active = top.parentActive && !top.active;
    } else if (t === '#endif') {
      if (!stack.pop()) throw new ShaderError(`${where}: #endif without #ifdef`);
    } else if (t.startsWith('#include ')) {
      if (!active()) continue;
      const m = /^#include\s+"([\w\-/]+)"/.exec(t);
      if (!m) throw new ShaderError(`${where}: malformed #include`);
      out.push(preprocessWgsl(m[1], resolveInclude(m[1]), defines, resolveInclude, depth + 1));
    } else if (t.startsWith('#')) {
      throw new ShaderError(`${where}: unknown directive ${t.split(/\s+/)[0]}`);
    } else if (active()) {
      out.push(
        line.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
          const v = defines[key];
          if (v === undefined || typeof v === 'boolean') {
            throw new ShaderError(`${where}: constant {{${key}}} has no value (defines: ${JSON.stringify(defines)})`);
          }
          return String(v);
        }),
      );
    }
  }
  if (stack.length) throw new ShaderError(`${name}: ${stack.length} unterminated #ifdef`);
  return out.join('\n');
}

/** `matmul` + {TILE: 16, F16W: true} → `matmul_main_F16W_TILE16`: the variant name used in profiles and errors. */
export function variantName(shader: string, entry: string, defines: Defines): string {
  const parts = Object.keys(defines)
    .sort()
    .filter((k) => defines[k] !== false)
    .map((k) => (defines[k] === true ? k : `${k}${String(defines[k]).replace(/[^\w.]/g, '')}`));
  return [shader, entry, ...parts].join('_');
}
