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
 * Writes softmax(row / temperature) of row r of logits [b, c] into out (f32) and returns the row's
 * log-partition, log Σ exp(z / temperature), in f64 with the maximum shifted out so exp stays finite;
 * NaN if the row holds a non-finite value. The probabilities are exp(z / temperature − that).
 */
function softmaxRow(logits: usize, out: usize, r: i32, c: i32, temperature: f64): f64 {
  const row = logits + ((<usize>r * <usize>c) << 2);
  const dst = out + ((<usize>r * <usize>c) << 2);
  let top = load<f32>(row);
  for (let k = 1; k < c; k++) top = max(top, load<f32>(row + (<usize>k << 2)));
  if (!isFinite(top)) return NaN;
  let sum: f64 = 0;
  for (let k = 0; k < c; k++) {
    const v = load<f32>(row + (<usize>k << 2));
    if (!isFinite(v)) return NaN;
    const e = Math.exp((<f64>v - <f64>top) / temperature);
    store<f32>(dst + (<usize>k << 2), <f32>e);
    sum += e;
  }
  const inv = 1 / sum;
  for (let k = 0; k < c; k++) store<f32>(dst + (<usize>k << 2), <f32>(<f64>load<f32>(dst + (<usize>k << 2)) * inv));
  return <f64>top / temperature + Math.log(sum);
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
    const logPartition = softmaxRow(logits, probs, r, c, 1);
    if (isNaN(logPartition)) return NaN;
    const label = load<i32>(labels + (<usize>r << 2));
    total += logPartition - <f64>load<f32>(logits + ((<usize>r * <usize>c + <usize>label) << 2));
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

// Knowledge distillation (Hinton et al. 2015): the student's logits z against the teachers' soft targets
// t (a probability row each, the mean of the teachers' softmax(z_k / τ)):
//   loss = α · τ² · KL(t ‖ softmax(z / τ)) + (1 − α) · cross-entropy(z, label)
// τ² keeps the soft term's gradient, α · τ · (softmax(z / τ) − t), on the scale of the hard one's.

/** targets [b, c] += weight · softmax(logits / temperature), row by row; scratch holds b·c floats.
 *  Returns 0, or -1 if a logit is not finite (targets then unchanged). */
export function softTargetsAccumulate(logits: usize, targets: usize, scratch: usize, b: i32, c: i32, temperature: f64, weight: f32): i32 {
  assert(b >= 1 && c >= 1 && temperature > 0, 'softTargetsAccumulate: b, c and temperature must be positive');
  for (let r = 0; r < b; r++) if (isNaN(softmaxRow(logits, scratch, r, c, temperature))) return -1;
  const n = b * c;
  for (let i = 0; i < n; i++) {
    const p = targets + (<usize>i << 2);
    store<f32>(p, load<f32>(p) + weight * load<f32>(scratch + (<usize>i << 2)));
  }
  return 0;
}

/** Writes probs = softmax(logits / temperature) and returns τ² · mean over rows of KL(targets ‖ probs);
 *  NaN when a logit is not finite. Targets of 0 add nothing (0 · log 0 = 0). */
export function distillForward(logits: usize, targets: usize, probs: usize, b: i32, c: i32, temperature: f64): f64 {
  assert(b >= 1 && c >= 1 && temperature > 0, 'distillForward: b, c and temperature must be positive');
  let total: f64 = 0;
  for (let r = 0; r < b; r++) {
    const logPartition = softmaxRow(logits, probs, r, c, temperature);
    if (isNaN(logPartition)) return NaN;
    for (let k = 0; k < c; k++) {
      const i = (<usize>r * <usize>c + <usize>k) << 2;
      const t = <f64>load<f32>(targets + i);
      // log q = z / τ − log-partition, exact where the f32 probability would underflow to 0.
      if (t > 0) total += t * (Math.log(t) - (<f64>load<f32>(logits + i) / temperature - logPartition));
    }
  }
  return (total / <f64>b) * temperature * temperature;
}

/** dlogits = (1 − alpha) · dlogits + alpha · temperature · (probs − targets) / b: the hard loss's gradient
 *  (crossEntropyBackward's, already in dlogits) blended with the soft one's. */
export function distillBackward(probs: usize, targets: usize, dlogits: usize, b: i32, c: i32, temperature: f32, alpha: f32): void {
  assert(b >= 1 && c >= 1 && temperature > 0, 'distillBackward: b, c and temperature must be positive');
  const soft = alpha * temperature / <f32>b;
  const n = b * c;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dlogits + o, (1 - alpha) * load<f32>(dlogits + o) + soft * (load<f32>(probs + o) - load<f32>(targets + o)));
  }
}
