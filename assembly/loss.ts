// The readout of a spiking model (summing the output layer over steps) and the classification loss.
import { loadLanes, storeLanes } from './lanes';

// @ts-ignore: decorator
@inline function sumBlock(x: usize, y: usize, j: i32, m: i32, steps: i32, lanes: i32): void {
  let acc = f32x4.splat(0);
  for (let t = 0; t < steps; t++) acc = f32x4.add(acc, loadLanes(x + ((<usize>t * <usize>m + <usize>j) << 2), lanes));
  storeLanes(y + (<usize>j << 2), acc, lanes);
}

/** y[j] = sum over t of x[t*m + j]: x is [steps, m], y [m]. */
export function sumOverSteps(x: usize, y: usize, m: i32, steps: i32): void {
  assert(m >= 0 && steps >= 1, 'sumOverSteps: m must be >= 0 and steps >= 1');
  let j = 0;
  for (; j + 4 <= m; j += 4) sumBlock(x, y, j, m, steps, 4);
  for (; j < m; j++) sumBlock(x, y, j, m, steps, 1);
}

/** dx[t*m + j] = dy[j] for every step. */
export function sumOverStepsBackward(dy: usize, dx: usize, m: i32, steps: i32): void {
  assert(m >= 0 && steps >= 1, 'sumOverStepsBackward: m must be >= 0 and steps >= 1');
  const bytes = <usize>m << 2;
  for (let t = 0; t < steps; t++) memory.copy(dx + <usize>t * bytes, dy, bytes);
}

/**
 * Softmax cross-entropy over rows of logits [b, c] with i32 labels [b] (already checked to be in
 * range): writes probs [b, c] and returns the mean loss. Shifting by the row maximum keeps exp finite;
 * sums and logs are f64. Returns NaN when any logit is NaN or infinite, so a bad batch cannot pass as
 * a finite loss.
 */
export function crossEntropyForward(logits: usize, labels: usize, probs: usize, b: i32, c: i32): f64 {
  assert(b >= 1 && c >= 1, 'crossEntropyForward: b and c must be positive');
  let total: f64 = 0;
  for (let r = 0; r < b; r++) {
    const row = logits + ((<usize>r * <usize>c) << 2);
    const out = probs + ((<usize>r * <usize>c) << 2);
    let top = load<f32>(row);
    for (let k = 1; k < c; k++) top = max(top, load<f32>(row + (<usize>k << 2)));
    if (!isFinite(top)) return NaN;
    let sum: f64 = 0;
    for (let k = 0; k < c; k++) {
      const v = load<f32>(row + (<usize>k << 2));
      if (!isFinite(v)) return NaN;
      const e = Math.exp(<f64>v - <f64>top);
      store<f32>(out + (<usize>k << 2), <f32>e);
      sum += e;
    }
    const inv = 1 / sum;
    for (let k = 0; k < c; k++) store<f32>(out + (<usize>k << 2), <f32>(<f64>load<f32>(out + (<usize>k << 2)) * inv));
    const label = load<i32>(labels + (<usize>r << 2));
    total += Math.log(sum) - (<f64>load<f32>(row + (<usize>label << 2)) - <f64>top);
  }
  return total / <f64>b;
}

/** dlogits = (probs - onehot(labels)) / b: the gradient of the mean loss. */
export function crossEntropyBackward(probs: usize, labels: usize, dlogits: usize, b: i32, c: i32): void {
  assert(b >= 1 && c >= 1, 'crossEntropyBackward: b and c must be positive');
  const scale = f32x4.splat(<f32>1 / <f32>b);
  const n = b * c;
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dlogits + (<usize>i << 2), f32x4.mul(v128.load(probs + (<usize>i << 2)), scale));
  for (; i < n; i++) store<f32>(dlogits + (<usize>i << 2), load<f32>(probs + (<usize>i << 2)) * (<f32>1 / <f32>b));
  for (let r = 0; r < b; r++) {
    const p = dlogits + ((<usize>r * <usize>c + <usize>load<i32>(labels + (<usize>r << 2))) << 2);
    store<f32>(p, load<f32>(p) - <f32>1 / <f32>b);
  }
}

/**
 * Rows whose label is among the k largest logits, counting a row correct when fewer than k logits are
 * strictly greater than the label's (ties go to the label). Returns -1 if any logit is not finite.
 */
export function topKCorrect(logits: usize, labels: usize, b: i32, c: i32, k: i32): i32 {
  assert(b >= 1 && c >= 1 && k >= 1, 'topKCorrect: b, c and k must be positive');
  let correct = 0;
  for (let r = 0; r < b; r++) {
    const row = logits + ((<usize>r * <usize>c) << 2);
    const target = load<f32>(row + (<usize>load<i32>(labels + (<usize>r << 2)) << 2));
    let above = 0;
    for (let j = 0; j < c; j++) {
      const v = load<f32>(row + (<usize>j << 2));
      if (!isFinite(v)) return -1;
      if (v > target) above++;
    }
    if (above < k) correct++;
  }
  return correct;
}
