/**
 * hyperpyyaml reader (cosyvoice3.yaml). Reads values only: `!new:pkg.Class` / `!name:pkg.fn` / `!apply:pkg.fn`
 * nodes become plain objects `{ __tag__: 'new', __target__: 'pkg.Class', ...kwargs }` (a sequence of positional
 * arguments goes to `__args__`), nothing is imported or called. `!ref <key>` / `!copy <key>` resolve to the value
 * at that key (dotted `<a.b>` or `<a[b]>` paths), and a reference expression with arithmetic
 * (`!ref <chunk_size> * <token_mel_ratio>`) is evaluated by a tiny number-only evaluator. Browser-safe.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { ConfigError } from './errors.js';

class Ref {
  constructor(readonly expr: string, readonly at: string) {}
}

const TAGGED = /^!(new|name|apply|module|include|tuple):?(.*)$/;

function build(node: unknown, at: string, file: string | undefined): unknown {
  if (node == null) return null;
  if (isAlias(node)) throw new ConfigError(`YAML aliases are not supported at ${at}`, { file });
  const n = node as YamlNode;
  const tag = (n as { tag?: string }).tag;
  let value: unknown;
  if (isMap(n)) {
    const o: Record<string, unknown> = {};
    for (const p of n.items) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      o[k] = build(p.value, at ? `${at}.${k}` : k, file);
    }
    value = o;
  } else if (isSeq(n)) value = n.items.map((x, i) => build(x, `${at}[${i}]`, file));
  else if (isScalar(n)) value = n.value;
  else throw new ConfigError(`unsupported YAML node at ${at}`, { file });
  if (!tag || tag.startsWith('tag:yaml.org')) return value;
  if (tag === '!ref' || tag === '!copy') {
    if (typeof value !== 'string') throw new ConfigError(`${tag} at ${at} must be a string`, { file });
    return new Ref(value, at);
  }
  const m = TAGGED.exec(tag);
  if (!m) throw new ConfigError(`unknown YAML tag ${tag} at ${at}`, { file });
  const obj: Record<string, unknown> = { __tag__: m[1], __target__: m[2] };
  if (Array.isArray(value)) obj.__args__ = value;
  else if (value && typeof value === 'object') Object.assign(obj, value);
  else if (value !== null && value !== '') obj.__args__ = [value];
  return obj;
}

/** Follows `a.b[c]` from the root. */
function lookup(root: Record<string, unknown>, path: string, at: string, file: string | undefined): unknown {
  const parts = path.replace(/\[([^\]]+)\]/g, '.$1').split('.').filter(Boolean);
  let cur: unknown = root;
  for (const p of parts) {
    if (!cur || typeof cur !== 'object' || !(p in (cur as object))) {
      throw new ConfigError(`reference <${path}> at ${at} names no key`, { file });
    }
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Evaluates + - * / // % ** and parentheses over numbers; anything else is an error. */
export function evalArithmetic(src: string, at = '', file?: string): number {
  const toks = src.match(/\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\*\*|\/\/|[-+*/%()]|\S/g) ?? [];
  let i = 0;
  const bad = (): never => {
    throw new ConfigError(`cannot evaluate "${src}" at ${at}`, { file });
  };
  const atom = (): number => {
    const t = toks[i++];
    if (t === undefined) bad();
    if (t === '(') {
      const v = sum();
      if (toks[i++] !== ')') bad();
      return v;
    }
    if (t === '-') return -power();
    if (t === '+') return power();
    const v = Number(t);
    if (!/^[\d.]/.test(t) || Number.isNaN(v)) bad();
    return v;
  };
  const power = (): number => {
    const b = atom();
    if (toks[i] === '**') {
      i++;
      return b ** power();
    }
    return b;
  };
  const product = (): number => {
    let v = power();
    while (['*', '/', '//', '%'].includes(toks[i])) {
      const op = toks[i++];
      const r = power();
      v = op === '*' ? v * r : op === '/' ? v / r : op === '//' ? Math.floor(v / r) : v - Math.floor(v / r) * r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (toks[i] === '+' || toks[i] === '-') v = toks[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== toks.length) bad();
  return v;
}

function resolve(v: unknown, root: Record<string, unknown>, file: string | undefined, active: Set<string>): unknown {
  if (v instanceof Ref) {
    if (active.has(v.at)) throw new ConfigError(`reference cycle through ${v.at}`, { file });
    active.add(v.at);
    const refs = [...v.expr.matchAll(/<([^<>]+)>/g)];
    let out: unknown;
    if (refs.length === 1 && refs[0][0] === v.expr.trim()) {
      out = resolve(lookup(root, refs[0][1], v.at, file), root, file, active);
    } else {
      const text = v.expr.replace(/<([^<>]+)>/g, (_, p: string) => {
        const x = resolve(lookup(root, p, v.at, file), root, file, active);
        if (typeof x !== 'number') throw new ConfigError(`reference <${p}> in "${v.expr}" at ${v.at} is not a number`, { file });
        return `(${x})`;
      });
      out = evalArithmetic(text, v.at, file);
    }
    active.delete(v.at);
    return out;
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, root, file, active));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = resolve(x, root, file, active);
    return o;
  }
  return v;
}

/** Parses hyperpyyaml text into plain data with references resolved. Browser-safe. */
export function parseHyperYaml(text: string, file?: string): Record<string, unknown> {
  // prettyErrors off: the library's excerpt formatting doubles the cost of rejecting a broken file; the line
  // number is computed here instead.
  const doc = parseDocument(text, { uniqueKeys: true, version: '1.2', prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const line = text.slice(0, err.pos[0]).split('\n').length;
    throw new ConfigError(`YAML error at line ${line}: ${err.message.split('\n')[0]}`, { file });
  }
  const raw = build(doc.contents, '', file);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('top level is not a mapping', { file });
  const root = raw as Record<string, unknown>;
  return resolve(root, root, file, new Set()) as Record<string, unknown>;
}

/** Reads a number at a dotted path, with a typed error naming the key when absent or not numeric. */
export function yamlNumber(cfg: Record<string, unknown>, path: string, file?: string): number {
  const v = lookup(cfg, path, path, file);
  if (typeof v !== 'number') throw new ConfigError(`${path} is ${JSON.stringify(v)}, expected a number`, { file });
  return v;
}
