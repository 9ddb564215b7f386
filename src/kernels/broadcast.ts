// A plane's single row repeated down its height (kernels in assembly/broadcast.ts):
//   forward  y [N, C, H, W] = x [N, C, 1, W] at every h
//   backward dx[n, c, 0, w] = Σ_h dy[n, c, h, w]
import { getEngine } from '../engine/engine.js';
import { ShapeError, expectPositive, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { streamShares } from '../engine/split.js';

function sizes(op: string, row: Tensor, full: Tensor): [number, number, number] {
  expectF32(op, 'the row tensor', row, 4);
  expectF32(op, 'the full tensor', full, 4);
  const [N, C, one, W] = row.shape;
  const [N2, C2, H, W2] = full.shape;
  if (one !== 1 || N2 !== N || C2 !== C || W2 !== W)
    throw new ShapeError(`${op}: ${fmtShape(row.shape)} does not broadcast to ${fmtShape(full.shape)}; expected [N, C, 1, W] and [N, C, H, W]`);
  expectPositive(op, { H });
  expectDisjoint(op, ['row', row], ['full', full]);
  return [N * C, H, W];
}

/** y [N, C, H, W] = x [N, C, 1, W] repeated down H rows. */
export function broadcastRowsForward(x: Tensor, y: Tensor): void {
  const [P, H, W] = sizes('broadcastRowsForward', x, y);
  const engine = getEngine();
  engine.parallel(streamShares(engine.threads, P, 4 * W * (H + 1), (lo, hi) => ['broadcastRowsForward', x.ptr + 4 * lo * W, y.ptr + 4 * lo * H * W, hi - lo, H, W]));
}

/** dx [N, C, 1, W] (overwritten) = dy [N, C, H, W] summed over its H rows. */
export function broadcastRowsBackward(dy: Tensor, dx: Tensor): void {
  const [P, H, W] = sizes('broadcastRowsBackward', dx, dy);
  const engine = getEngine();
  engine.parallel(streamShares(engine.threads, P, 4 * W * (H + 1), (lo, hi) => ['broadcastRowsBackward', dy.ptr + 4 * lo * H * W, dx.ptr + 4 * lo * W, hi - lo, H, W]));
}
