// Rows summed and spread, an adjoint pair (kernels in assembly/broadcast.ts):
//   sumRows    y [N, C, 1, W] = scale · Σ_h x[N, C, h, W]
//   spreadRows y [N, C, H, W] = scale · x [N, C, 1, W] at every h
import { getEngine } from '../engine/engine.js';
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { streamShares } from '../engine/split.js';

function run(op: 'sumRows' | 'spreadRows', x: Tensor, y: Tensor, scale: number): void {
  expectF32(op, 'x', x, 4);
  expectF32(op, 'y', y, 4);
  const [row, full] = op === 'sumRows' ? [y, x] : [x, y];
  const [N, C, one, W] = row.shape;
  const [N2, C2, H, W2] = full.shape;
  if (one !== 1 || N2 !== N || C2 !== C || W2 !== W)
    throw new ShapeError(`${op}: ${fmtShape(row.shape)} and ${fmtShape(full.shape)} are not a row and its plane; expected [N, C, 1, W] and [N, C, H, W]`);
  expectPositive(op, { H });
  if (!Number.isFinite(scale)) throw new RangeError(`${op}: scale must be finite, got ${scale}`);
  expectDisjoint(op, ['x', x], ['y', y]);
  const engine = getEngine();
  const [xStep, yStep] = op === 'sumRows' ? [H * W, W] : [W, H * W];
  engine.parallel(streamShares(engine.threads, N * C, 4 * W * (H + 1), (lo, hi) => [op, x.ptr + 4 * lo * xStep, y.ptr + 4 * lo * yStep, hi - lo, H, W, scale]));
}

/** y [N, C, 1, W] = scale · (x [N, C, H, W] summed over its H rows); scale 1/H gives the mean. */
export function sumRows(x: Tensor, y: Tensor, scale = 1): void {
  run('sumRows', x, y, scale);
}

/** y [N, C, H, W] = scale · x [N, C, 1, W] repeated down H rows. */
export function spreadRows(x: Tensor, y: Tensor, scale = 1): void {
  run('spreadRows', x, y, scale);
}
