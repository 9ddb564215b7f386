import { describe, expect, it } from 'vitest';
import { getEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { describeEachBuild } from './helpers.js';

describeEachBuild('engine', (flavor) => {
  it('runs the requested build', () => {
    expect(getEngine().flavor).toBe(flavor);
  });

  it('keeps tensor views valid after memory growth', () => {
    const a = Tensor.from([1, 2, 3]);
    const before = getEngine().memoryBytes;
    const big = Tensor.empty([(before / 4) * 2]);
    expect(getEngine().memoryBytes).toBeGreaterThan(before);
    expect(Array.from(a.f32)).toEqual([1, 2, 3]);
    big.free();
    a.free();
  });

  it('reuses freed memory: 10,000 alloc/free cycles do not grow memory', () => {
    const t0 = Tensor.empty([1000, 100]);
    t0.free();
    const size = getEngine().memoryBytes;
    for (let i = 0; i < 10_000; i++) {
      const a = Tensor.empty([1000, 100]);
      const b = Tensor.empty([37]);
      a.free();
      b.free();
    }
    expect(getEngine().memoryBytes).toBe(size);
  });

  it('tracks the peak of bytes in use since its last reset', () => {
    const engine = getEngine();
    const base = engine.bytesInUse;
    engine.resetPeakBytes();
    expect(engine.peakBytesInUse).toBe(base);
    const a = Tensor.empty([1000]); // 4,000 bytes, rounded up to 64-byte blocks
    const b = Tensor.empty([500]);
    a.free();
    b.free();
    expect(engine.bytesInUse).toBe(base);
    expect(engine.peakBytesInUse).toBe(base + 4032 + 2048);
    engine.resetPeakBytes();
    expect(engine.peakBytesInUse).toBe(base);
  });

  it('lets its scratch areas go on releaseScratch, and scratch() then allocates afresh', () => {
    const engine = getEngine();
    engine.releaseScratch();
    const base = engine.bytesInUse;
    const at = engine.scratch(1 << 20);
    expect(engine.bytesInUse).toBeGreaterThanOrEqual(base + (1 << 20));
    expect(engine.scratch(1000)).toBe(at); // a smaller need reuses the area
    engine.releaseScratch();
    expect(engine.bytesInUse).toBe(base);
    expect(engine.scratch(64)).toBeGreaterThan(0);
    expect(engine.bytesInUse).toBeLessThan(base + (1 << 20));
  });

  it('refuses bad shapes, double frees and freed tensors with clear errors', () => {
    expect(() => Tensor.empty([2, -1])).toThrow(/not a non-negative integer/);
    expect(() => Tensor.from([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2,2\]/);
    const t = Tensor.zeros([4]);
    t.free();
    expect(() => t.f32).toThrow(/was freed/);
    const u = Tensor.zeros([4]);
    expect(() => u.reshape([3])).toThrow(/cannot view/);
    expect(() => u.reshape([2, 2]).free()).toThrow(/is a view/);
    u.free();
  });

  it('reports kernel aborts with file and line', async () => {
    const k = getEngine().kernels;
    expect(() => k.reluForward(0, 0, -1)).toThrow(/n must be >= 0.*assembly\/activation\.ts/);
  });
});

describe('engines made from bytes', () => {
  it('name their own build, and initEngine() twice keeps the running engine', async () => {
    const { createEngine, initEngine } = await import('../src/engine/engine.js');
    const { readFile } = await import('node:fs/promises');
    for (const flavor of ['relaxed', 'simd'] as const) {
      const bytes = new Uint8Array(await readFile(new URL(`../build/${flavor}.wasm`, import.meta.url)));
      expect((await createEngine({ bytes })).flavor).toBe(flavor);
      const other = flavor === 'relaxed' ? 'simd' : 'relaxed';
      await expect(createEngine({ bytes, flavor: other })).rejects.toThrow(`the module given is the ${flavor} build, not the ${other} one`);
    }
    const first = await initEngine();
    expect(await initEngine()).toBe(first);
  });
});
