// Batch norm against a plain f64 reference with PyTorch's rules (biased variance to normalise, unbiased
// variance in the running estimate); backward by central finite differences of that reference.
import { expect, it } from 'vitest';
import { ShapeError } from '../src/engine/errors.js';
import { Tensor } from '../src/engine/tensor.js';
import { type BatchNormState, batchNormBackward, batchNormForward } from '../src/kernels/batchnorm.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

const EPS = 1e-5;

interface RefOut { y: Float64Array; mean: Float64Array; invStd: Float64Array; runMean: Float64Array; runVar: Float64Array }

function refBatchNorm(
  x: ArrayLike<number>, shape: number[], w: ArrayLike<number>, b: ArrayLike<number>,
  runMean: ArrayLike<number>, runVar: ArrayLike<number>, training: boolean, momentum = 0.1,
): RefOut {
  const [N, C] = shape;
  const L = shape.slice(2).reduce((a, v) => a * v, 1);
  const at = (n: number, c: number, l: number) => (n * C + c) * L + l;
  const out: RefOut = {
    y: new Float64Array(x.length), mean: new Float64Array(C), invStd: new Float64Array(C),
    runMean: Float64Array.from(runMean), runVar: Float64Array.from(runVar),
  };
  for (let c = 0; c < C; c++) {
    let mean = runMean[c];
    let variance = runVar[c];
    if (training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) s += x[at(n, c, l)];
      mean = s / (N * L);
      let q = 0;
      for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) q += (x[at(n, c, l)] - mean) ** 2;
      variance = q / (N * L);
      out.runMean[c] = (1 - momentum) * runMean[c] + momentum * mean;
      out.runVar[c] = (1 - momentum) * runVar[c] + momentum * (q / (N * L - 1));
    }
    out.mean[c] = mean;
    out.invStd[c] = 1 / Math.sqrt(variance + EPS);
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) out.y[at(n, c, l)] = (x[at(n, c, l)] - mean) * out.invStd[c] * w[c] + b[c];
  }
  return out;
}

function setup(shape: number[], seed: number) {
  const C = shape[1];
  const size = shape.reduce((a, v) => a * v, 1);
  const xs = randArray(size, seed, -2, 3);
  const ws = randArray(C, seed + 1, 0.5, 1.5);
  const bs = randArray(C, seed + 2);
  const rm = randArray(C, seed + 3);
  const rv = randArray(C, seed + 4, 0.5, 2);
  const state: BatchNormState = { runningMean: Tensor.from(rm), runningVar: Tensor.from(rv), saveMean: Tensor.zeros([C]), saveInvStd: Tensor.zeros([C]) };
  const t = { x: Tensor.from(xs, shape), w: Tensor.from(ws), b: Tensor.from(bs), y: Tensor.zeros(shape) };
  const free = () => [...Object.values(t), ...Object.values(state)].forEach((v) => v.free());
  return { xs, ws, bs, rm, rv, state, ...t, free };
}

// 1d [N, C, L], 2d [N, C, H, W], [N, C] without trailing dimensions, batch 1, odd sizes.
const SHAPES = [[3, 5, 7], [1, 3, 2, 5], [4, 6], [2, 3, 13, 3], [1, 2, 9], [16, 4, 33]];

describeEachBuild('batchNorm', () => {
  it.each(SHAPES)('training forward matches the reference for %j', (...shape) => {
    const s = setup(shape, shape.length * 10 + shape[0]);
    batchNormForward(s.x, s.w, s.b, s.y, s.state, { training: true });
    const r = refBatchNorm(s.xs, shape, s.ws, s.bs, s.rm, s.rv, true);
    expect(maxRelErr(s.y.f32, r.y, 1e-5, 1e-4)).toBeLessThan(1);
    expect(maxRelErr(s.state.saveMean.f32, r.mean)).toBeLessThan(1);
    expect(maxRelErr(s.state.saveInvStd.f32, r.invStd)).toBeLessThan(1);
    expect(maxRelErr(s.state.runningMean.f32, r.runMean)).toBeLessThan(1);
    expect(maxRelErr(s.state.runningVar.f32, r.runVar)).toBeLessThan(1);
    s.free();
  });

  it.each(SHAPES)('eval forward uses the running statistics and leaves them alone for %j', (...shape) => {
    const s = setup(shape, 7 + shape[1]);
    batchNormForward(s.x, s.w, s.b, s.y, s.state, { training: false });
    const r = refBatchNorm(s.xs, shape, s.ws, s.bs, s.rm, s.rv, false);
    expect(maxRelErr(s.y.f32, r.y)).toBeLessThan(1);
    expect(Array.from(s.state.runningMean.f32)).toEqual(Array.from(s.rm));
    expect(Array.from(s.state.runningVar.f32)).toEqual(Array.from(s.rv));
    s.free();
  });

  it('running variance takes the unbiased batch variance, as PyTorch (momentum 0.1 and a custom one)', () => {
    // One channel, values 1..4: mean 2.5, biased variance 1.25 (normalises), unbiased 5/3 (running).
    const x = Tensor.from([1, 2, 3, 4], [4, 1]);
    const y = Tensor.zeros([4, 1]);
    const w = Tensor.from([1]);
    const b = Tensor.from([0]);
    const state = { runningMean: Tensor.from([0]), runningVar: Tensor.from([1]), saveMean: Tensor.zeros([1]), saveInvStd: Tensor.zeros([1]) };
    batchNormForward(x, w, b, y, state, { training: true });
    expect(state.runningMean.f32[0]).toBeCloseTo(0.25, 6);
    expect(state.runningVar.f32[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 6);
    expect(y.f32[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25 + 1e-5), 5);
    expect(state.saveInvStd.f32[0]).toBeCloseTo(1 / Math.sqrt(1.25 + 1e-5), 5);
    batchNormForward(x, w, b, y, state, { training: true, momentum: 0.5 });
    expect(state.runningMean.f32[0]).toBeCloseTo(0.5 * 0.25 + 0.5 * 2.5, 6);
    expect(state.runningVar.f32[0]).toBeCloseTo(0.5 * (0.9 + 0.1 * (5 / 3)) + 0.5 * (5 / 3), 6);
    for (const t of [x, y, w, b, ...Object.values(state)]) t.free();
  });

  it.each([[3, 4, 5], [1, 3, 2, 3], [5, 2], [2, 2, 7, 1], [2, 3, 19], [1, 2, 4, 9]])('backward matches finite differences of the training forward for %j', (...shape) => {
    const s = setup(shape, 40 + shape.length);
    const C = shape[1];
    const g = randArray(s.xs.length, 99);
    const dy = Tensor.from(g, shape);
    const dx = Tensor.zeros(shape);
    const dw = Tensor.zeros([C]).fill(123);
    const db = Tensor.zeros([C]).fill(123);
    batchNormForward(s.x, s.w, s.b, s.y, s.state, { training: true });
    batchNormBackward(s.x, s.w, dy, s.state, dx, dw, db);
    const xd = Array.from(s.xs, Number);
    const wd = Array.from(s.ws, Number);
    const bd = Array.from(s.bs, Number);
    const loss = () => refBatchNorm(xd, shape, wd, bd, s.rm, s.rv, true).y.reduce((a, v, i) => a + v * g[i], 0);
    const all = (n: number) => [...Array(n).keys()];
    expect(maxRelErr(dx.f32, finiteDiff(xd, all(xd.length), loss, 1e-4), 1e-3, 1e-3)).toBeLessThan(1);
    expect(maxRelErr(dw.f32, finiteDiff(wd, all(C), loss, 1e-4), 1e-3, 1e-3)).toBeLessThan(1);
    expect(maxRelErr(db.f32, finiteDiff(bd, all(C), loss, 1e-4), 1e-3, 1e-3)).toBeLessThan(1);
    for (const t of [dy, dx, dw, db]) t.free();
    s.free();
  });

  it('backward skips dx, dweight and dbias when they are null', () => {
    const s = setup([4, 3, 5], 5);
    const dy = Tensor.from(randArray(60, 6), [4, 3, 5]);
    const full = [Tensor.zeros([4, 3, 5]), Tensor.zeros([3]), Tensor.zeros([3])];
    const part = Tensor.zeros([3]);
    batchNormForward(s.x, s.w, s.b, s.y, s.state, { training: true });
    batchNormBackward(s.x, s.w, dy, s.state, full[0], full[1], full[2]);
    // A skipped output must not be written anywhere: the bottom of linear memory stays as it was.
    const low = () => Array.from(s.x.engine.u8(0, 4096));
    const before = low();
    batchNormBackward(s.x, s.w, dy, s.state, null, part, null);
    expect(low()).toEqual(before);
    expect(Array.from(part.f32)).toEqual(Array.from(full[1].f32));
    for (const t of [dy, part, ...full]) t.free();
    s.free();
  });

  it('rejects bad calls with messages naming the operand or option', () => {
    const s = setup([2, 3, 4], 1);
    const w4 = Tensor.zeros([4]);
    expect(() => batchNormForward(s.x, w4, s.b, s.y, s.state, { training: true })).toThrow(/batchNormForward: weight has shape \[4\], expected \[3\]/);
    expect(() => batchNormForward(s.x, s.w, s.b, s.x, s.state, { training: true })).toThrow(/y overlaps x/);
    expect(() => batchNormForward(s.x, s.w, s.b, s.y, s.state, { training: true, momentum: 2 })).toThrow(/momentum must be in \[0, 1\]/);
    expect(() => batchNormForward(s.x, s.w, s.b, s.y, { ...s.state, runningVar: w4 }, { training: false })).toThrow(ShapeError);
    const one = Tensor.zeros([1, 3, 1]);
    const oneY = Tensor.zeros([1, 3, 1]);
    expect(() => batchNormForward(one, s.w, s.b, oneY, s.state, { training: true })).toThrow(/more than one value per channel/);
    const flat = Tensor.zeros([24]);
    expect(() => batchNormForward(flat, s.w, s.b, s.y, s.state, { training: true })).toThrow(/expected \[N, C, \.\.\.\]/);
    const dyBad = Tensor.zeros([2, 3, 5]);
    expect(() => batchNormBackward(s.x, s.w, dyBad, s.state, s.y, null, null)).toThrow(/batchNormBackward: dy has shape \[2,3,5\], expected \[2,3,4\]/);
    for (const t of [w4, one, oneY, flat, dyBad]) t.free();
    s.free();
  });
});
