import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { matmul } from '../src/kernels/gemm.js';
import { describeEachBuild, maxRelErr, randArray } from './helpers.js';

// Naive f64 reference: C[i,j] = sum_k op(A)[i,k] op(B)[k,j] (+ C0).
function refMatmul(a: Float32Array, b: Float32Array, M: number, N: number, K: number, transA: boolean, transB: boolean, c0?: Float32Array): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = c0 ? c0[i * N + j] : 0;
      for (let k = 0; k < K; k++) s += (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
      c[i * N + j] = s;
    }
  return c;
}

// Sizes off the 4x8 micro-tile and across the KC = 256, MC = 96, NC = 256 block edges.
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 16],
  [17, 13, 9],
  [97, 130, 300],
  [5, 530, 3],
  [130, 9, 513],
];

describeEachBuild('matmul', () => {
  for (const [M, N, K] of shapes)
    for (const transA of [false, true])
      for (const transB of [false, true])
        it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, () => {
          const seed = M * 1000 + N * 10 + K + (transA ? 7 : 0) + (transB ? 13 : 0);
          const av = randArray(M * K, seed);
          const bv = randArray(K * N, seed + 1);
          const a = Tensor.from(av, transA ? [K, M] : [M, K]);
          const b = Tensor.from(bv, transB ? [N, K] : [K, N]);
          const c = Tensor.from(randArray(M * N, seed + 2), [M, N]);
          matmul(a, b, c, { transA, transB });
          expect(maxRelErr(c.f32, refMatmul(av, bv, M, N, K, transA, transB), 1e-4 * Math.sqrt(K), 1e-4)).toBeLessThanOrEqual(1);
          for (const t of [a, b, c]) t.free();
        });

  it.each(shapes)('accumulate adds to c (M=%i N=%i K=%i)', (M, N, K) => {
    const av = randArray(M * K, 1);
    const bv = randArray(K * N, 2);
    const c0 = randArray(M * N, 3);
    const a = Tensor.from(av, [M, K]);
    const b = Tensor.from(bv, [N, K]);
    const c = Tensor.from(c0, [M, N]);
    matmul(a, b, c, { transB: true, accumulate: true });
    expect(maxRelErr(c.f32, refMatmul(av, bv, M, N, K, false, true, c0), 1e-4 * Math.sqrt(K), 1e-4)).toBeLessThanOrEqual(1);
    for (const t of [a, b, c]) t.free();
  });

  it('rejects mismatched and empty shapes with a ShapeError naming them', () => {
    const a = Tensor.zeros([3, 4]);
    const b = Tensor.zeros([5, 6]);
    const c = Tensor.zeros([3, 6]);
    const e = Tensor.zeros([0, 4]);
    expect(() => matmul(a, b, c)).toThrow(/matmul: inner sizes differ in a \[3,4\] · b \[5,6\] \(4 vs 5\)/);
    const b2 = Tensor.zeros([4, 6]);
    const c2 = Tensor.zeros([6, 3]);
    expect(() => matmul(a, b2, c2)).toThrow(/matmul: c has shape \[6,3\], expected \[3,6\]/);
    expect(() => matmul(e, b2, c)).toThrow(/matmul: a has shape \[0,4\], expected 2 positive dimensions/);
    expect(() => matmul(a, b2, c)).not.toThrow();
    expect(() => matmul(a, Tensor.zeros([4]), c)).toThrow(/ShapeError|expected 2 positive dimensions/);
    for (const t of [a, b, c, e, b2, c2]) t.free();
  });

  it('refuses an output that overlaps an input', () => {
    const a = Tensor.zeros([4, 4]);
    const b = Tensor.zeros([4, 4]);
    expect(() => matmul(a, b, a)).toThrow(/matmul: c overlaps a in memory/);
    expect(() => matmul(a, b, b.reshape([4, 4]))).toThrow(/matmul: c overlaps b in memory/);
    a.free();
    b.free();
  });
});
