import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { reluBackward, reluForward } from '../src/kernels/activation.js';
import { describeEachBuild, finiteDiff, randArray } from './helpers.js';

const refRelu = (x: ArrayLike<number>) => Array.from(x, (v) => Math.max(v, 0));

describeEachBuild('relu', () => {
  it.each([1, 3, 4, 17, 1000])('forward matches the reference for n=%i', (n) => {
    const xs = randArray(n, n);
    const x = Tensor.from(xs);
    const y = Tensor.empty([n]);
    reluForward(x, y);
    expect(Array.from(y.f32)).toEqual(refRelu(xs).map(Math.fround));
    x.free();
    y.free();
  });

  it('backward matches finite differences of sum(w * relu(x))', () => {
    const n = 37;
    const xs = randArray(n, 7);
    const w = randArray(n, 8);
    const x = Tensor.from(xs);
    const dy = Tensor.from(w);
    const dx = Tensor.empty([n]);
    reluBackward(x, dy, dx);
    const xd = Array.from(xs);
    const fd = finiteDiff(xd, [...Array(n).keys()], () => refRelu(xd).reduce((s, v, i) => s + v * w[i], 0), 1e-3);
    for (let i = 0; i < n; i++) expect(dx.f32[i]).toBeCloseTo(fd[i], 3);
    for (const t of [x, dy, dx]) t.free();
  });

  it('rejects mismatched shapes with a message naming the operand', () => {
    const x = Tensor.zeros([4]);
    const y = Tensor.zeros([5]);
    expect(() => reluForward(x, y)).toThrow(/reluForward: y has shape \[5\], expected \[4\]/);
    x.free();
    y.free();
  });
});
