// Running sums and differences over the steps of time-major [steps, n] activations. A spiking max pool
// (src/layers/spike-maxpool.ts) pools the running spike counts and emits their increments:
//   C[t] = Σ_{τ<=t} s[τ]      y[t] = P[t] − P[t−1]      P = maxpool(C)
// Backward is the adjoint of each: the reversed running sum and the reversed difference.
import { addForward } from './elementwise';

/** y[t] = x[0] + … + x[t]; y may be x. */
export function cumsumSteps(x: usize, y: usize, steps: i32, n: i32): void {
  assert(steps > 0 && n >= 0, 'cumsumSteps: steps must be positive and n >= 0');
  const row = <usize>n << 2;
  memory.copy(y, x, row);
  for (let t = 1; t < steps; t++) addForward(y + <usize>(t - 1) * row, x + <usize>t * row, y + <usize>t * row, n);
}

/** dx[t] = dy[t] + … + dy[steps−1] (the adjoint of cumsumSteps); dx may be dy. */
export function cumsumStepsBackward(dy: usize, dx: usize, steps: i32, n: i32): void {
  assert(steps > 0 && n >= 0, 'cumsumStepsBackward: steps must be positive and n >= 0');
  const row = <usize>n << 2;
  const last = <usize>(steps - 1) * row;
  memory.copy(dx + last, dy + last, row);
  for (let t = steps - 2; t >= 0; t--) addForward(dx + <usize>(t + 1) * row, dy + <usize>t * row, dx + <usize>t * row, n);
}

/** y[0] = x[0], y[t] = x[t] − x[t−1]; y may be x (it runs from the last step back). */
export function diffSteps(x: usize, y: usize, steps: i32, n: i32): void {
  assert(steps > 0 && n >= 0, 'diffSteps: steps must be positive and n >= 0');
  const row = <usize>n << 2;
  for (let t = steps - 1; t >= 1; t--) subRows(x + <usize>t * row, x + <usize>(t - 1) * row, y + <usize>t * row, n);
  memory.copy(y, x, row);
}

/** dx[t] = dy[t] − dy[t+1], dx[steps−1] = dy[steps−1] (the adjoint of diffSteps); dx may be dy. */
export function diffStepsBackward(dy: usize, dx: usize, steps: i32, n: i32): void {
  assert(steps > 0 && n >= 0, 'diffStepsBackward: steps must be positive and n >= 0');
  const row = <usize>n << 2;
  for (let t = 0; t < steps - 1; t++) subRows(dy + <usize>t * row, dy + <usize>(t + 1) * row, dx + <usize>t * row, n);
  const last = <usize>(steps - 1) * row;
  memory.copy(dx + last, dy + last, row);
}

// @ts-ignore: decorator
@inline function subRows(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) - load<f32>(b + o));
  }
}
