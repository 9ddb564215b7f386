import { engineFor } from './setup.js';
import { rig } from './models.bench.js';
import type { ModelName } from '../src/models/types.js';
const [name, spikingArg, stepsArg] = process.argv.slice(2);
const engine = await engineFor('relaxed', 1);
const k = engine.kernels as unknown as Record<string, unknown>;
const totals = new Map<string, { ms: number; n: number }>();
const wrapped: Record<string, unknown> = {};
let active = false;
const mem = () => new Int32Array((engine as any).memory.buffer);
for (const key of Object.keys(k)) {
  const f = k[key];
  if (typeof f !== 'function') { wrapped[key] = f; continue; }
  wrapped[key] = (...a: unknown[]) => {
    if (!active) return (f as Function)(...a);
    let label = key;
    if (key.startsWith('conv2d') && !key.includes('Bytes')) { const m = mem(); const d = (a[0] as number) >> 2; label += ' ' + Array.from(m.subarray(d, d + 11)).join(','); }
    const t = performance.now();
    const r = (f as Function)(...a);
    const dt = performance.now() - t;
    const e = totals.get(label) ?? { ms: 0, n: 0 };
    e.ms += dt; e.n++; totals.set(label, e);
    return r;
  };
}
(engine as unknown as { kernels: unknown }).kernels = wrapped;
const pol = Number(process.env.POLICY ?? 0); (k.setSparsePolicy as (p: number) => void)(pol);
const r = rig({ name: name as ModelName, spiking: spikingArg === 'snn', steps: Number(stepsArg ?? 5) });
for (let i = 0; i < 10; i++) r.trainStep();
const N = 20;
active = true;
const t0 = performance.now();
for (let i = 0; i < N; i++) r.trainStep();
const total = (performance.now() - t0) / N;
active = false;
let inK = 0;
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
for (const [, v] of rows) inK += v.ms / N;
console.log(`step ${total.toFixed(2)} ms, in kernels ${inK.toFixed(2)} ms, outside ${(total - inK).toFixed(2)} ms`);
for (const [key, v] of rows.slice(0, 40)) console.log(`${key.padEnd(60)} ${(v.ms / N).toFixed(3)} ms  ${(v.n / N).toFixed(0)} calls`);
