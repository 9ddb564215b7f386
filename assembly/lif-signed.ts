// Signed (bipolar) integrate-and-fire neurons with memory, for converted SNNs (docs/conversion.md,
// "Signed neurons"): a neuron fires +1 when its membrane reaches the threshold and −1 when the membrane
// falls below zero, but only while its net count of spikes so far is positive, resetting by
// subtraction both ways. Time-major [steps, n], membranes from `initial`, no spike before step 0:
//
//   U[t] = β·U[t−1] + I[t] − S[t−1]·θ          C[t] = Σ_{τ<t} S[τ]   (C[0] = 0)
//   S[t] = +1 if U[t] >= θ;  −1 if U[t] < 0 and C[t] > 0;  else 0
//
// With β = 1 and |I[t]| <= θ the membrane after any step with C > 0 stays in [0, θ), so the net count
// over T steps is max(0, floor(ΣI/θ + U[−1]/θ)) exactly: a neuron that fired too early takes the
// spike back. out holds S (f32 −1/0/+1); spikes holds |S| (u8 0/1: the neuron fired either way).
// Backward (BPTT, resets and the gate C > 0 held constant, as the unsigned kernel holds its reset):
//   dS/dU = σ'(U − θ) + [C > 0]·σ'(U)     with σ' the surrogate (straight-through: |S| per sign)
// Each tile keeps its neurons' running counts in `counts`; backward first sums each neuron's spikes
// and takes them off again from the last step down, so the forward stores no count.

import { loadLanes as loadF32, storeLanes as storeF32 } from './lanes';
import { SURROGATE_ATAN, SURROGATE_FAST_SIGMOID, SURROGATE_STRAIGHT_THROUGH, TILE, carries, counts, lanesToF64, storeSpikes, surrogateGrad } from './lif-common';
import { madd } from './simd';

/** One step of `lanes` neurons at index k (into [steps, n]), i within the tile; returns the lanes that fired. */
// @ts-ignore: decorator
@inline function signedStep(
  input: usize, membrane: usize, spikes: usize, out: usize, k: usize, current: usize, c: usize, first: bool,
  b: v128, thr: v128, init: v128, lanes: i32, n: usize,
): v128 {
  let prev = init;
  let sPrev = f32x4.splat(0);
  let count = f32x4.splat(0);
  if (!first) {
    prev = loadF32(membrane + ((k - n) << 2), lanes);
    sPrev = loadF32(out + ((k - n) << 2), lanes);
    count = loadF32(c, lanes);
  }
  const I = loadF32(input + (current << 2), lanes);
  const mem = f32x4.sub(f32x4.add(f32x4.mul(b, prev), I), f32x4.mul(sPrev, thr));
  const up = f32x4.ge(mem, thr);
  const down = v128.and(f32x4.lt(mem, f32x4.splat(0)), f32x4.gt(count, f32x4.splat(0)));
  const one = f32x4.splat(1);
  const s = f32x4.sub(v128.and(up, one), v128.and(down, one));
  storeF32(membrane + (k << 2), mem, lanes);
  storeF32(out + (k << 2), s, lanes);
  storeF32(c, f32x4.add(count, s), lanes);
  const fired = v128.or(up, down);
  storeSpikes(spikes + k, fired, lanes);
  return lanes == 4 ? fired : v128.and(fired, i32x4.gt_s(i32x4.splat(lanes), i32x4(0, 1, 2, 3)));
}

/**
 * Runs the signed neurons; writes membrane (f32), spikes (u8 0/1, fired either way) and out (f32
 * −1/0/+1), all [steps, n]. input is [steps, n] (inputStride n) or [n] at every step (inputStride 0).
 * beta is clamped to [0, 1]; threshold must be positive. Returns the number of spikes of either sign.
 */
export function signedIfForward(
  input: usize, inputStride: i32, membrane: usize, spikes: usize, out: usize, n: i32, steps: i32,
  beta: f32, threshold: f32, initial: f32,
): i32 {
  assert(n >= 0 && steps > 0, 'signedIfForward: n must be >= 0 and steps positive');
  assert(<i64>n * <i64>steps < 0x7fffffff, 'signedIfForward: steps * n must fit in i32');
  assert(inputStride == 0 || inputStride == n, 'signedIfForward: inputStride must be 0 (repeated) or n');
  assert(threshold > 0, 'signedIfForward: threshold must be positive');
  const repeated = inputStride == 0;
  const b = f32x4.splat(min(max(beta, 0), 1));
  const thr = f32x4.splat(threshold);
  const init = f32x4.splat(initial);
  const stride = <usize>n;
  let fired = i32x4.splat(0);
  for (let start = 0; start < n; start += TILE) {
    const end = min(start + TILE, n);
    for (let t = 0; t < steps; t++) {
      const row = <usize>t * stride;
      const first = t == 0;
      let i = start;
      for (; i + 4 <= end; i += 4) {
        const k = row + <usize>i;
        const c = counts + (<usize>(i - start) << 2);
        fired = i32x4.sub(fired, signedStep(input, membrane, spikes, out, k, repeated ? <usize>i : k, c, first, b, thr, init, 4, stride));
      }
      for (; i < end; i++) {
        const k = row + <usize>i;
        const c = counts + (<usize>(i - start) << 2);
        fired = i32x4.sub(fired, signedStep(input, membrane, spikes, out, k, repeated ? <usize>i : k, c, first, b, thr, init, 1, stride));
      }
    }
  }
  return i32x4.extract_lane(fired, 0) + i32x4.extract_lane(fired, 1) + i32x4.extract_lane(fired, 2) + i32x4.extract_lane(fired, 3);
}

let gBeta = f32x4.splat(0);
let gThr = f32x4.splat(0);
let gInit = f32x4.splat(0);
let gParam = f32x4.splat(0);
let gHalf = f32x4.splat(0);
let gDbeta: f64 = 0;
let gDthreshold: f64 = 0;
let gDinitial: f64 = 0;

/** counts[i] = Σ_t out[t, i] for the neurons [from, to) of the tile at tileStart. */
// @ts-ignore: decorator
@inline function sumSpikes(out: usize, n: i32, steps: i32, tileStart: i32, from: i32, to: i32, lanes: i32): void {
  for (let i = from; i + lanes <= to; i += lanes) {
    let total = f32x4.splat(0);
    for (let t = 0; t < steps; t++) total = f32x4.add(total, loadF32(out + ((<usize>t * <usize>n + <usize>i) << 2), lanes));
    storeF32(counts + (<usize>(i - tileStart) << 2), total, lanes);
  }
}

// BPTT of step t for the neurons [from, to) of a tile: the carry from step t+1 comes in through
// `carries`, the count after step t through `counts`, and both leave for step t−1.
// @ts-ignore: decorator
@inline function signedBackwardStep(
  dspikes: usize, membrane: usize, out: usize, dinput: usize, n: i32, t: i32, steps: i32,
  tileStart: i32, from: i32, to: i32, repeated: bool, surrogate: i32, lanes: i32,
): void {
  const last = t == steps - 1;
  const stride = <usize>n;
  const row = <usize>t * stride;
  const zero = f32x4.splat(0);
  let dbeta = zero;
  let dthr = zero;
  let dinit = zero;
  for (let i = from; i + lanes <= to; i += lanes) {
    const k = row + <usize>i;
    const c = carries + (<usize>(i - tileStart) << 2);
    const cnt = counts + (<usize>(i - tileStart) << 2);
    const mem = loadF32(membrane + (k << 2), lanes);
    const s = loadF32(out + (k << 2), lanes);
    const before = f32x4.sub(loadF32(cnt, lanes), s);
    storeF32(cnt, before, lanes);
    let prev = gInit;
    let sPrev = zero;
    if (t > 0) {
      prev = loadF32(membrane + ((k - stride) << 2), lanes);
      sPrev = loadF32(out + ((k - stride) << 2), lanes);
    }
    const dspk = loadF32(dspikes + (k << 2), lanes);
    const up = surrogateGrad(surrogate, f32x4.sub(mem, gThr), f32x4.gt(s, zero), gParam, gHalf);
    const down = v128.and(surrogateGrad(surrogate, mem, f32x4.lt(s, zero), gParam, gHalf), f32x4.gt(before, zero));
    const viaUp = f32x4.mul(dspk, up);
    const viaSpike = madd(dspk, down, viaUp);
    const dmem = last ? viaSpike : f32x4.add(viaSpike, loadF32(c, lanes));
    if (!repeated) storeF32(dinput + (k << 2), dmem, lanes);
    else {
      const d = dinput + (<usize>i << 2);
      storeF32(d, last ? dmem : f32x4.add(loadF32(d, lanes), dmem), lanes);
    }
    dbeta = madd(dmem, prev, dbeta);
    // dU/dθ = −S[t−1] (the reset); dS/dθ = −σ'(U − θ) (the upper threshold only).
    dthr = f32x4.sub(dthr, madd(dmem, sPrev, viaUp));
    const carry = f32x4.mul(dmem, gBeta);
    storeF32(c, carry, lanes);
    if (t == 0) dinit = f32x4.add(dinit, carry);
  }
  gDbeta = lanesToF64(gDbeta, dbeta);
  gDthreshold = lanesToF64(gDthreshold, dthr);
  gDinitial = lanesToF64(gDinitial, dinit);
}

// @ts-ignore: decorator
@inline function signedBackwardTile(
  dspikes: usize, membrane: usize, out: usize, dinput: usize, n: i32, steps: i32, start: i32, end: i32, repeated: bool, surrogate: i32,
): void {
  const bulk = start + ((end - start) & ~3);
  sumSpikes(out, n, steps, start, start, bulk, 4);
  sumSpikes(out, n, steps, start, bulk, end, 1);
  for (let t = steps - 1; t >= 0; t--) {
    signedBackwardStep(dspikes, membrane, out, dinput, n, t, steps, start, start, bulk, repeated, surrogate, 4);
    signedBackwardStep(dspikes, membrane, out, dinput, n, t, steps, start, bulk, end, repeated, surrogate, 1);
  }
}

/**
 * Gradients of signedIfForward given dL/dout (dspikes, f32 [steps, n]): writes dinput ([steps, n], or
 * [n] summed over the steps with dinputStride 0) and, at `result`, three f64: dL/dbeta (zero outside
 * [0, 1]), dL/dthreshold and dL/dinitial (summed over the neurons). surrogate as lifBackward's.
 */
export function signedIfBackward(
  dspikes: usize, membrane: usize, out: usize, dinput: usize, dinputStride: i32, n: i32, steps: i32,
  beta: f32, threshold: f32, surrogate: i32, param: f32, initial: f32, result: usize,
): void {
  assert(n >= 0 && steps > 0, 'signedIfBackward: n must be >= 0 and steps positive');
  assert(<i64>n * <i64>steps < 0x7fffffff, 'signedIfBackward: steps * n must fit in i32');
  assert(dinputStride == 0 || dinputStride == n, 'signedIfBackward: dinputStride must be 0 (repeated) or n');
  assert(surrogate >= 0 && surrogate <= 2, 'signedIfBackward: surrogate must be 0 (atan), 1 (fast sigmoid) or 2 (straight-through)');
  const repeated = dinputStride == 0;
  const betaInRange = beta >= 0 && beta <= 1;
  gBeta = f32x4.splat(min(max(beta, 0), 1));
  gThr = f32x4.splat(threshold);
  gInit = f32x4.splat(initial);
  gParam = f32x4.splat(surrogate == SURROGATE_ATAN ? <f32>(Math.PI / 2) * param : param);
  gHalf = f32x4.splat(param / 2);
  gDbeta = 0;
  gDthreshold = 0;
  gDinitial = 0;
  for (let start = 0; start < n; start += TILE) {
    const end = min(start + TILE, n);
    if (surrogate == SURROGATE_ATAN) signedBackwardTile(dspikes, membrane, out, dinput, n, steps, start, end, repeated, SURROGATE_ATAN);
    else if (surrogate == SURROGATE_FAST_SIGMOID) signedBackwardTile(dspikes, membrane, out, dinput, n, steps, start, end, repeated, SURROGATE_FAST_SIGMOID);
    else signedBackwardTile(dspikes, membrane, out, dinput, n, steps, start, end, repeated, SURROGATE_STRAIGHT_THROUGH);
  }
  store<f64>(result, betaInRange ? gDbeta : 0);
  store<f64>(result, gDthreshold, 8);
  store<f64>(result, gDinitial, 16);
}
