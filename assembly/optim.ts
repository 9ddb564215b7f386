// Parameter updates over flat buffers of n values, PyTorch's formulas (torch.optim.Adam, torch.optim.SGD).
import { loadLanes, storeLanes } from './lanes';
import { madd } from './simd';

// @ts-ignore: decorator
@inline function adamBlock(
  param: usize, grad: usize, m: usize, v: usize, o: usize, beta1: v128, beta2: v128, eps: v128, decay: v128,
  stepSize: v128, bc2Sqrt: v128, lanes: i32,
): void {
  const p = loadLanes(param + o, lanes);
  const g = madd(decay, p, loadLanes(grad + o, lanes));
  const mOld = loadLanes(m + o, lanes);
  // m.lerp_(g, 1 - beta1) as PyTorch writes it: m + (1 - beta1)(g - m).
  const mNew = madd(f32x4.sub(f32x4.splat(1), beta1), f32x4.sub(g, mOld), mOld);
  const vNew = madd(beta2, loadLanes(v + o, lanes), f32x4.mul(f32x4.mul(f32x4.sub(f32x4.splat(1), beta2), g), g));
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(vNew), bc2Sqrt), eps);
  storeLanes(m + o, mNew, lanes);
  storeLanes(v + o, vNew, lanes);
  storeLanes(param + o, f32x4.sub(p, f32x4.mul(stepSize, f32x4.div(mNew, denom))), lanes);
}

/**
 * One Adam step: g = grad + weightDecay·param (L2, not AdamW); m, v the moving averages;
 * param -= stepSize · m / (sqrt(v) / bc2Sqrt + eps) with stepSize = lr / (1 - beta1^step) and
 * bc2Sqrt = sqrt(1 - beta2^step), computed by the caller in f64.
 */
export function adamStep(
  param: usize, grad: usize, m: usize, v: usize, n: i32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, stepSize: f32, bc2Sqrt: f32,
): void {
  assert(n >= 0, 'adamStep: n must be >= 0');
  const b1 = f32x4.splat(beta1);
  const b2 = f32x4.splat(beta2);
  const e = f32x4.splat(eps);
  const wd = f32x4.splat(weightDecay);
  const s = f32x4.splat(stepSize);
  const c2 = f32x4.splat(bc2Sqrt);
  let i = 0;
  for (; i + 4 <= n; i += 4) adamBlock(param, grad, m, v, <usize>i << 2, b1, b2, e, wd, s, c2, 4);
  for (; i < n; i++) adamBlock(param, grad, m, v, <usize>i << 2, b1, b2, e, wd, s, c2, 1);
}

// @ts-ignore: decorator
@inline function sgdBlock(param: usize, grad: usize, velocity: usize, o: usize, lr: v128, momentum: v128, decay: v128, useMomentum: bool, lanes: i32): void {
  const p = loadLanes(param + o, lanes);
  let g = madd(decay, p, loadLanes(grad + o, lanes));
  if (useMomentum) {
    g = madd(momentum, loadLanes(velocity + o, lanes), g);
    storeLanes(velocity + o, g, lanes);
  }
  storeLanes(param + o, f32x4.sub(p, f32x4.mul(lr, g)), lanes);
}

/**
 * One SGD step: g = grad + weightDecay·param; with momentum, velocity = momentum·velocity + g (no
 * dampening; a zero velocity makes the first step's velocity = g, PyTorch's first step) and g = velocity;
 * param -= lr·g. Without momentum the velocity is not touched.
 */
export function sgdStep(param: usize, grad: usize, velocity: usize, n: i32, lr: f32, momentum: f32, weightDecay: f32): void {
  assert(n >= 0, 'sgdStep: n must be >= 0');
  const l = f32x4.splat(lr);
  const mo = f32x4.splat(momentum);
  const wd = f32x4.splat(weightDecay);
  let i = 0;
  if (momentum != 0) {
    for (; i + 4 <= n; i += 4) sgdBlock(param, grad, velocity, <usize>i << 2, l, mo, wd, true, 4);
    for (; i < n; i++) sgdBlock(param, grad, velocity, <usize>i << 2, l, mo, wd, true, 1);
  } else {
    for (; i + 4 <= n; i += 4) sgdBlock(param, grad, velocity, <usize>i << 2, l, mo, wd, false, 4);
    for (; i < n; i++) sgdBlock(param, grad, velocity, <usize>i << 2, l, mo, wd, false, 1);
  }
}

// @ts-ignore: decorator
@inline function averageBlock(avg: usize, value: usize, o: usize, weight: v128, lanes: i32): void {
  const a = loadLanes(avg + o, lanes);
  storeLanes(avg + o, madd(weight, f32x4.sub(loadLanes(value + o, lanes), a), a), lanes);
}

/**
 * One step of an exponential moving average: avg += weight·(value − avg), i.e. avg = decay·avg +
 * (1 − decay)·value with weight = 1 − decay, in the lerp form so that a constant value stays exact.
 */
export function averageStep(avg: usize, value: usize, n: i32, weight: f32): void {
  assert(n >= 0, 'averageStep: n must be >= 0');
  const w = f32x4.splat(weight);
  let i = 0;
  for (; i + 4 <= n; i += 4) averageBlock(avg, value, <usize>i << 2, w, 4);
  for (; i < n; i++) averageBlock(avg, value, <usize>i << 2, w, 1);
}
