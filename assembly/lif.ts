// Leaky integrate-and-fire over `steps` steps, time-major [steps, n], membranes starting at `initial`
// (0 for snntorch; half the threshold for converted networks, which rounds rates instead of flooring
// them) with no spike before the first step.
// Both snntorch forms and both resets are one branch-free update (see docs/design.md, "LIF"):
//   mem_t = b*prev·(1 - r·zeroPrev) + I·(1 - r·zeroInput) - r·thrReset
// with r = H(prev - thr) = the previous step's spike, and per-call constants:
//   current+subtract: zeroPrev 0, zeroInput 0, thrReset thr      legacy+subtract: 0, 0, b*thr
//   current+zero:     zeroPrev 1, zeroInput 1, thrReset 0        legacy+zero:     1, 0, 0
// Masks stand for the 0/1 factors, so every form runs the same instructions.
// The neurons go in tiles that stay in L2: each step sweeps the whole tile (independent vectors, so
// the update's dependency chain does not stall the loop, and every array is read in one long
// sequential run) and reads the previous step back from cache. The last partial vector of a tile goes through
// the same code with lane-wise loads and stores, so the update is written once.

import { loadLanes as loadF32, storeLanes as storeF32 } from './lanes';
import { SURROGATE_ATAN, SURROGATE_FAST_SIGMOID, SURROGATE_STRAIGHT_THROUGH, TILE, lanesToF64, storeSpikes, surrogateGrad } from './lif-common';
import { affineSpan, madd } from './simd';

// The signed (bipolar) integrate-and-fire neurons of converted SNNs.
export { signedIfBackward, signedIfForward } from './lif-signed';

const FORM_LEGACY = 1;
const RESET_ZERO = 1;

/**
 * One step of `lanes` neurons from index k (into [steps, n]), their membrane at index m, the previous
 * step's `back` before it (0 when only the latest membrane is kept); returns their spikes as lane masks.
 */
// @ts-ignore: decorator
@inline function forwardStep(
  input: usize, membrane: usize, spikes: usize, out: usize, k: usize, current: usize, m: usize, back: usize, first: bool,
  b: v128, thr: v128, zeroPrev: v128, zeroInput: v128, thrReset: v128, init: v128, lanes: i32,
): v128 {
  // Before the first step: the initial membrane, and no spike to reset (r = 0 whatever the threshold).
  let prev = init;
  let r = i32x4.splat(0);
  if (!first) {
    prev = loadF32(membrane + ((m - back) << 2), lanes);
    // The previous spike is the previous membrane over the threshold, as stored: no need to reload it.
    r = f32x4.gt(prev, thr);
  }
  const I = loadF32(input + (current << 2), lanes);
  const mem = f32x4.sub(
    f32x4.add(v128.andnot(f32x4.mul(b, prev), v128.and(r, zeroPrev)), v128.andnot(I, v128.and(r, zeroInput))),
    v128.and(r, thrReset),
  );
  const spk = f32x4.gt(mem, thr);
  storeF32(membrane + (m << 2), mem, lanes);
  if (out) storeF32(out + (k << 2), v128.and(spk, f32x4.splat(1)), lanes);
  if (spikes) storeSpikes(spikes + k, spk, lanes);
  // Lanes past a partial vector computed from zeros; with a negative threshold they would count.
  return lanes == 4 ? spk : v128.and(spk, i32x4.gt_s(i32x4.splat(lanes), i32x4(0, 1, 2, 3)));
}

// The forward update's per-call constants (see the top of the file), shared by lifForward and the
// recomputing backward.
let fB = f32x4.splat(0);
let fThr = f32x4.splat(0);
let fZeroPrev = i32x4.splat(0);
let fZeroInput = i32x4.splat(0);
let fThrReset = f32x4.splat(0);
let fInit = f32x4.splat(0);

// @ts-ignore: decorator
@inline function setForwardConstants(beta: f32, threshold: f32, form: i32, reset: i32, initial: f32): void {
  beta = min(max(beta, 0), 1);
  const zero = reset == RESET_ZERO;
  fB = f32x4.splat(beta);
  fThr = f32x4.splat(threshold);
  fZeroPrev = i32x4.splat(zero ? -1 : 0);
  fZeroInput = i32x4.splat(zero && form != FORM_LEGACY ? -1 : 0);
  fThrReset = f32x4.splat(zero ? 0 : form == FORM_LEGACY ? beta * threshold : threshold);
  fInit = f32x4.splat(initial);
}

/**
 * Runs the neurons; writes membrane (f32), spikes (u8 0/1; none when the pointer is 0, as for a pass
 * that only backward follows) and out (f32 0/1), all [steps, n] with
 * steps `stride` >= n apart (a thread's band of neurons of a larger population: every offset at the
 * band's first neuron). input is [steps, n] (inputStride = stride), or [n] repeated at every step (inputStride 0). beta is
 * clamped to [0, 1] as snntorch does; `initial` is the membrane before the first step, U[-1].
 * The membrane is [steps, n] (membraneStride = stride), for a backward pass, or only the latest step's
 * [n] (membraneStride 0), overwritten step by step: a pass no backward follows writes 4 bytes a
 * neuron rather than 4 a neuron-step. Returns the number of spikes.
 */
export function lifForward(
  input: usize, inputStride: i32, membrane: usize, membraneStride: i32, spikes: usize, out: usize, n: i32, steps: i32,
  beta: f32, threshold: f32, form: i32, reset: i32, initial: f32, stride: i32,
): i32 {
  assert(n >= 0 && steps > 0 && stride >= n, 'lifForward: n must be >= 0, steps positive and stride >= n');
  assert(<i64>stride * <i64>steps < 0x7fffffff, 'lifForward: steps * stride must fit in i32');
  assert(inputStride == 0 || inputStride == stride, 'lifForward: inputStride must be 0 (repeated) or stride');
  assert(membraneStride == 0 || membraneStride == stride, 'lifForward: membraneStride must be 0 (latest step only) or stride');
  const repeated = inputStride == 0;
  const back = <usize>membraneStride;
  setForwardConstants(beta, threshold, form, reset, initial);
  const b = fB;
  const thr = fThr;
  const zeroPrev = fZeroPrev;
  const zeroInput = fZeroInput;
  const thrReset = fThrReset;
  const init = fInit;
  let count = i32x4.splat(0);
  for (let start = 0; start < n; start += TILE) {
    const end = min(start + TILE, n);
    for (let t = 0; t < steps; t++) {
      const row = <usize>t * <usize>stride;
      const first = t == 0;
      let i = start;
      for (; i + 4 <= end; i += 4) {
        const k = row + <usize>i;
        const current = repeated ? <usize>i : k;
        const m = back ? k : <usize>i;
        count = i32x4.sub(count, forwardStep(input, membrane, spikes, out, k, current, m, back, first, b, thr, zeroPrev, zeroInput, thrReset, init, 4));
      }
      for (; i < end; i++) {
        const k = row + <usize>i;
        const current = repeated ? <usize>i : k;
        const m = back ? k : <usize>i;
        count = i32x4.sub(count, forwardStep(input, membrane, spikes, out, k, current, m, back, first, b, thr, zeroPrev, zeroInput, thrReset, init, 1));
      }
    }
  }
  return i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3);
}

// Per-call constants of the backward pass, kept in globals so the step function takes few arguments.
let gBeta = f32x4.splat(0);
let gThr = f32x4.splat(0);
let gZeroPrev = i32x4.splat(0);
let gZeroInput = i32x4.splat(0);
let gBetaThr = f32x4.splat(0);
let gThrCoef = f32x4.splat(0);
let gSurrogateParam = f32x4.splat(0);
let gSurrogateHalf = f32x4.splat(0);
let gInit = f32x4.splat(0);
let gDbeta: f64 = 0;
let gDthreshold: f64 = 0;
let gDinitial: f64 = 0;
// dL/dmem of each neuron of a tile, carried from one step into the step before it: the caller's work
// area (one per thread), not static data, so threads can run bands of one population at once.
let gCarries: usize = 0;

/**
 * Bytes of lifBackward's `result` area: three f64 results, the tile's carries, then room for a tile's
 * membrane over `steps` steps and one step of its currents when backward recomputes it (steps 0 when
 * it reads a stored one).
 */
export function lifBackwardBytes(steps: i32): usize {
  return 64 + (<usize>TILE << 2) + (steps > 0 ? (<usize>TILE * <usize>(steps + 1)) << 2 : 0);
}


// BPTT of step t for neurons [from, to) of the tile that starts at tileStart, `lanes` at a time:
// reads the carry the step after left, leaves its own for the step before (none enters the last
// step). The reset r_t (= the spike of step t-1) is a constant, so it only gates terms and carries
// no gradient. Spikes are read off the membrane (S[t] = U[t] > U_thr, the forward's own test), so
// a training pass stores no spikes beside it. An input given once gets the sum over steps, started by the last step. The carry out
// of step 0 is dL/dU[-1], summed into the initial membrane's gradient.
// @ts-ignore: decorator
@inline function backwardStep(
  dspikes: usize, membrane: usize, mstride: i32, dinput: usize, stride: i32, t: i32, steps: i32,
  tileStart: i32, from: i32, to: i32, repeated: bool, surrogate: i32, lanes: i32, paramGrads: bool,
): void {
  const beta = gBeta;
  const thr = gThr;
  const zeroPrev = gZeroPrev;
  const zeroInput = gZeroInput;
  const betaThr = gBetaThr;
  const thrCoef = gThrCoef;
  const param = gSurrogateParam;
  const half = gSurrogateHalf;
  const last = t == steps - 1;
  const row = <usize>t * <usize>stride;
  const mrow = <usize>t * <usize>mstride;
  let dbeta = f32x4.splat(0);
  let dthr = f32x4.splat(0);
  let dinit = f32x4.splat(0);
  for (let i = from; i + lanes <= to; i += lanes) {
    const k = row + <usize>i;
    const c = gCarries + (<usize>(i - tileStart) << 2);
    const mk = mrow + <usize>i;
    const mem = loadF32(membrane + (mk << 2), lanes);
    const spk = surrogate == SURROGATE_ATAN || surrogate == SURROGATE_FAST_SIGMOID ? i32x4.splat(0) : f32x4.gt(mem, thr);
    let prev = gInit;
    let r = i32x4.splat(0);
    if (t > 0) {
      prev = loadF32(membrane + ((mk - <usize>mstride) << 2), lanes);
      r = f32x4.gt(prev, thr);
    }
    const dspk = loadF32(dspikes + (k << 2), lanes);
    const viaSpike = f32x4.mul(dspk, surrogateGrad(surrogate, f32x4.sub(mem, thr), spk, param, half));
    const dmem = last ? viaSpike : f32x4.add(viaSpike, loadF32(c, lanes));
    const dcurrent = v128.andnot(dmem, v128.and(r, zeroInput));
    if (!repeated) storeF32(dinput + (k << 2), dcurrent, lanes);
    else {
      const d = dinput + (<usize>i << 2);
      storeF32(d, last ? dcurrent : f32x4.add(loadF32(d, lanes), dcurrent), lanes);
    }
    const gated = v128.and(r, zeroPrev);
    const carry = f32x4.mul(dmem, v128.andnot(beta, gated));
    storeF32(c, carry, lanes);
    if (paramGrads) {
      dbeta = madd(dmem, f32x4.sub(v128.andnot(prev, gated), v128.and(r, betaThr)), dbeta);
      dthr = f32x4.sub(dthr, madd(dmem, v128.and(r, thrCoef), viaSpike));
      if (t == 0) dinit = f32x4.add(dinit, carry);
    }
  }
  if (paramGrads) {
    gDbeta = lanesToF64(gDbeta, dbeta);
    gDthreshold = lanesToF64(gDthreshold, dthr);
    gDinitial = lanesToF64(gDinitial, dinit);
  }
}

// All steps of one tile, newest first; the bulk four lanes at a time, the rest one at a time. The
// membrane of neuron i at step t is at membrane + 4 (t * mstride + i).
// @ts-ignore: decorator
@inline function backwardTile(
  dspikes: usize, membrane: usize, mstride: i32, dinput: usize, stride: i32, steps: i32, start: i32, end: i32, repeated: bool, surrogate: i32,
  paramGrads: bool,
): void {
  const bulk = start + ((end - start) & ~3);
  for (let t = steps - 1; t >= 0; t--) {
    backwardStep(dspikes, membrane, mstride, dinput, stride, t, steps, start, start, bulk, repeated, surrogate, 4, paramGrads);
    backwardStep(dspikes, membrane, mstride, dinput, stride, t, steps, start, bulk, end, repeated, surrogate, 1, paramGrads);
  }
}

// One tile's BPTT with the surrogate and whether the parameters' gradients are summed as constants,
// so each combination compiles to its own loop with nothing decided inside it.
// @ts-ignore: decorator
@inline function backwardTileFor(
  dspikes: usize, membrane: usize, mstride: i32, dinput: usize, stride: i32, steps: i32, start: i32, end: i32, repeated: bool, surrogate: i32,
  paramGrads: bool,
): void {
  if (paramGrads) {
    if (surrogate == SURROGATE_ATAN) backwardTile(dspikes, membrane, mstride, dinput, stride, steps, start, end, repeated, SURROGATE_ATAN, true);
    else if (surrogate == SURROGATE_FAST_SIGMOID) backwardTile(dspikes, membrane, mstride, dinput, stride, steps, start, end, repeated, SURROGATE_FAST_SIGMOID, true);
    else backwardTile(dspikes, membrane, mstride, dinput, stride, steps, start, end, repeated, SURROGATE_STRAIGHT_THROUGH, true);
  } else if (surrogate == SURROGATE_ATAN) backwardTile(dspikes, membrane, mstride, dinput, stride, steps, start, end, repeated, SURROGATE_ATAN, false);
  else if (surrogate == SURROGATE_FAST_SIGMOID) backwardTile(dspikes, membrane, mstride, dinput, stride, steps, start, end, repeated, SURROGATE_FAST_SIGMOID, false);
  else backwardTile(dspikes, membrane, mstride, dinput, stride, steps, start, end, repeated, SURROGATE_STRAIGHT_THROUGH, false);
}

/**
 * Writes the membrane of neurons [start, end) at every step into `area`, [steps, end - start], from the
 * input current (currentStride 0: one [n] row for every step; else rows `stride` apart): lifForward's
 * update, so the same values to the bit, with no spikes or output written. With `affine`, `current`
 * holds x and each step's currents are its affine map (affineCurrents), written into `row` first.
 */
// @ts-ignore: decorator
@inline function recomputeTile(
  current: usize, currentStride: i32, area: usize, stride: i32, steps: i32, start: i32, end: i32,
  affine: usize, channels: i32, plane: i32, first: i32, row: usize,
): void {
  const width = <usize>(end - start);
  for (let t = 0; t < steps; t++) {
    let from = current;
    let at: usize = currentStride == 0 ? 0 : <usize>t * <usize>stride;
    if (affine) {
      affineCurrents(current + (at << 2), affine + ((<usize>t * <usize>(2 * channels)) << 2), channels, plane, first, start, end, row);
      from = row - (<usize>start << 2);
      at = 0;
    }
    const mrow = <usize>t * width;
    let i = start;
    for (; i + 4 <= end; i += 4)
      forwardStep(from, area, 0, 0, 0, at + <usize>i, mrow + <usize>(i - start), width, t == 0, fB, fThr, fZeroPrev, fZeroInput, fThrReset, fInit, 4);
    for (; i < end; i++)
      forwardStep(from, area, 0, 0, 0, at + <usize>i, mrow + <usize>(i - start), width, t == 0, fB, fThr, fZeroPrev, fZeroInput, fThrReset, fInit, 1);
  }
}

/**
 * One step's currents of neurons [start, end) into `row`, as a batch norm wrote them: I = x·scale[c] +
 * shift[c] (affineSpan, the batch norm's own arithmetic), where neuron first + i of the step lies in
 * channel ((first + i) / plane) mod channels and `affine` holds the step's scales, then its shifts.
 */
// @ts-ignore: decorator
@inline function affineCurrents(x: usize, affine: usize, channels: i32, plane: i32, first: i32, start: i32, end: i32, row: usize): void {
  let i = start;
  while (i < end) {
    const j = first + i;
    const c = (j / plane) % channels;
    const to = min(end, i + plane - j % plane);
    const scale = load<f32>(affine + (<usize>c << 2));
    const shift = load<f32>(affine + (<usize>(channels + c) << 2));
    affineSpan(x + (<usize>i << 2), row + (<usize>(i - start) << 2), to - i, scale, shift);
    i = to;
  }
}

/**
 * Gradients of lifForward given dL/dout (dspikes, f32 [steps, n], rows `stride` apart as in
 * lifForward): writes dinput ([steps, n] with dinputStride = stride, or [n] summed over steps with
 * dinputStride 0) and, at `result` (lifBackwardBytes() of work area), three f64: dL/dbeta
 * (zero when beta lies outside [0, 1], where the clamp is flat), dL/dthreshold (through the spike
 * and the reset term) and dL/dinitial (the initial membrane, summed over neurons).
 * The membrane is read from `membrane` ([steps, n], rows `stride` apart), or, when `current` is not 0,
 * recomputed tile by tile from the forward's input current (laid out as dinput, the gradient it gets)
 * into the work area (lifBackwardBytes(steps)): an input given once is 1/steps of the membrane's size,
 * and the tile's membrane never leaves the cache. With `affine` (per-step currents only), `current`
 * is the tensor x the currents were an affine map of, per step t and channel c: I = x·scale[t][c] +
 * shift[t][c], `affine` [steps][2][channels] (scales, then shifts), `plane` neurons a channel, and
 * `first` the index in its step of the band's first neuron (a batch norm's output, which then need
 * not be kept: x is its input, kept for its own backward).
 * surrogate: 0 ATan (param = alpha), 1 fast sigmoid (param = slope), 2 straight-through.
 * paramGrads 0 skips the three sums (they read 0) for a layer that learns neither beta nor the
 * threshold: a fifth of the update's vector operations.
 */
export function lifBackward(
  dspikes: usize, membrane: usize, current: usize, dinput: usize, dinputStride: i32, n: i32, steps: i32,
  beta: f32, threshold: f32, form: i32, reset: i32, surrogate: i32, param: f32, initial: f32, result: usize, stride: i32, paramGrads: i32,
  affine: usize, channels: i32, plane: i32, first: i32,
): void {
  assert(n >= 0 && steps > 0 && stride >= n, 'lifBackward: n must be >= 0, steps positive and stride >= n');
  assert(!affine || (current && dinputStride != 0 && channels > 0 && plane > 0 && first >= 0), 'lifBackward: affine currents need x per step, channels, plane and first');
  assert(<i64>stride * <i64>steps < 0x7fffffff, 'lifBackward: steps * stride must fit in i32');
  assert(dinputStride == 0 || dinputStride == stride, 'lifBackward: dinputStride must be 0 (repeated) or stride');
  gCarries = result + 64;
  const area = gCarries + (<usize>TILE << 2);
  if (current) setForwardConstants(beta, threshold, form, reset, initial);
  const repeated = dinputStride == 0;
  const betaInRange = beta >= 0 && beta <= 1;
  beta = min(max(beta, 0), 1);
  assert(surrogate >= 0 && surrogate <= 2, 'lifBackward: surrogate must be 0 (atan), 1 (fast sigmoid) or 2 (straight-through)');
  const zero = reset == RESET_ZERO;
  const legacy = form == FORM_LEGACY;
  gBeta = f32x4.splat(beta);
  gThr = f32x4.splat(threshold);
  gZeroPrev = i32x4.splat(zero ? -1 : 0);
  gZeroInput = i32x4.splat(zero && !legacy ? -1 : 0);
  gBetaThr = f32x4.splat(!zero && legacy ? threshold : 0);
  gThrCoef = f32x4.splat(zero ? 0 : legacy ? beta : 1);
  gSurrogateParam = f32x4.splat(surrogate == SURROGATE_ATAN ? <f32>(Math.PI / 2) * param : param);
  gSurrogateHalf = f32x4.splat(param / 2);
  gInit = f32x4.splat(initial);
  gDbeta = 0;
  gDthreshold = 0;
  gDinitial = 0;
  for (let start = 0; start < n; start += TILE) {
    const end = min(start + TILE, n);
    // The tile's membrane: stored, or recomputed into the area, addressed from the tile's first neuron.
    let mem = membrane;
    let mstride = stride;
    if (current) {
      recomputeTile(current, dinputStride, area, stride, steps, start, end, affine, channels, plane, first, area + ((<usize>TILE * <usize>steps) << 2));
      mem = area - (<usize>start << 2);
      mstride = end - start;
    }
    backwardTileFor(dspikes, mem, mstride, dinput, stride, steps, start, end, repeated, surrogate, paramGrads != 0);
  }
  store<f64>(result, betaInRange ? gDbeta : 0);
  store<f64>(result, gDthreshold, 8);
  store<f64>(result, gDinitial, 16);
}
