// Adaptive average pooling followed by Flatten and Linear, as one NIR Affine. The pool is linear,
// pooled = P·x, with P[k, j] = 1/|bin k| when input j lies in bin k (PyTorch's bins, kernels/pool.ts:
// bin i of `out` over `len` is [floor(i·len/out), ceil((i+1)·len/out)), so bins may overlap), so
//
//     W·flatten(pool(x)) + b = (W·P)·flatten(x) + b
//
// and Flatten then Affine(W·P, b) is the same map, up to float rounding (the sums are regrouped). NIR's
// AvgPool2d has one kernel and stride, which uneven bins (Tcy's 134 frames into 10) have not.
// W comes back from W' = W·P through a column that only one bin holds: W[o, k] = W'[o, j]·|bin k|.

/** Bin i of `out` over `len`, [start, end). */
const bin = (i: number, len: number, out: number): [number, number] => [Math.floor((i * len) / out), Math.ceil(((i + 1) * len) / out)];

/** Per-sample shapes: the pool's input [C, H, W] and its output [OH, OW]. */
export interface PoolShape {
  input: readonly [number, number, number];
  pooled: readonly [number, number];
}

/** Calls f(k, j, 1/|bin k|) for every pooled cell k (flat over C, OH, OW) and input j (flat over C, H, W) in its bin. */
function eachCell(s: PoolShape, f: (k: number, j: number, share: number) => void): void {
  const [C, H, W] = s.input;
  const [OH, OW] = s.pooled;
  for (let c = 0; c < C; c++)
    for (let i = 0; i < OH; i++) {
      const [y0, y1] = bin(i, H, OH);
      for (let jj = 0; jj < OW; jj++) {
        const [x0, x1] = bin(jj, W, OW);
        const k = (c * OH + i) * OW + jj;
        const share = 1 / ((y1 - y0) * (x1 - x0));
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) f(k, (c * H + y) * W + x, share);
      }
    }
}

/** W' = W·P, [out, C·H·W], from W [out, C·OH·OW] (summed in float64, then rounded once). */
export function composePool(w: Float32Array, s: PoolShape): Float32Array {
  const pooled = s.input[0] * s.pooled[0] * s.pooled[1];
  const inputs = s.input[0] * s.input[1] * s.input[2];
  const out = w.length / pooled;
  const acc = new Float64Array(out * inputs);
  eachCell(s, (k, j, share) => {
    for (let o = 0; o < out; o++) acc[o * inputs + j] += w[o * pooled + k] * share;
  });
  return Float32Array.from(acc);
}

/**
 * W with W' = W·P, or null when W' is not of that form (up to float rounding: every entry of W·P within
 * 1e-6 of the largest |W'|) or some bin has no column of its own.
 */
export function recoverPooled(composed: Float32Array, s: PoolShape): Float32Array | null {
  const pooled = s.input[0] * s.pooled[0] * s.pooled[1];
  const inputs = s.input[0] * s.input[1] * s.input[2];
  if (composed.length % inputs !== 0) return null;
  const out = composed.length / inputs;
  const owners = new Int32Array(inputs); // how many bins hold input j
  const own = new Int32Array(pooled).fill(-1); // a column only bin k holds
  const shares = new Float64Array(pooled);
  eachCell(s, (k, j, share) => {
    owners[j]++;
    shares[k] = share;
  });
  eachCell(s, (k, j) => {
    if (owners[j] === 1) own[k] = j;
  });
  if (own.some((j) => j < 0)) return null;
  const w = new Float32Array(out * pooled);
  for (let o = 0; o < out; o++) for (let k = 0; k < pooled; k++) w[o * pooled + k] = composed[o * inputs + own[k]] / shares[k];
  const again = composePool(w, s);
  const scale = composed.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return again.every((v, i) => Math.abs(v - composed[i]) <= 1e-6 * scale) ? w : null;
}
