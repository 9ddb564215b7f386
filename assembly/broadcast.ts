// A plane's one row repeated down its height, the join of BC-ResNet's broadcast residual (Kim et al.
// 2021): a branch that worked on the frequency-averaged map [C, 1, T] is added back at every frequency.
//   forward:  y[p, h, w] = x[p, w]          for P planes of H rows of W
//   backward: dx[p, w]   = Σ_h dy[p, h, w]
import { madd } from './simd';

export function broadcastRowsForward(x: usize, y: usize, P: i32, H: i32, W: i32): void {
  assert(P > 0 && H > 0 && W > 0, 'broadcastRowsForward: sizes must be > 0');
  const row = <usize>W << 2;
  for (let p = 0; p < P; p++) {
    const src = x + <usize>p * row;
    const dst = y + <usize>p * H * row;
    for (let h = 0; h < H; h++) memory.copy(dst + <usize>h * row, src, row);
  }
}

export function broadcastRowsBackward(dy: usize, dx: usize, P: i32, H: i32, W: i32): void {
  assert(P > 0 && H > 0 && W > 0, 'broadcastRowsBackward: sizes must be > 0');
  const row = <usize>W << 2;
  const one = f32x4.splat(1);
  for (let p = 0; p < P; p++) {
    const dst = dx + <usize>p * row;
    const src = dy + <usize>p * H * row;
    memory.copy(dst, src, row);
    for (let h = 1; h < H; h++) {
      const r = src + <usize>h * row;
      let w = 0;
      for (; w + 4 <= W; w += 4) {
        const q = dst + (<usize>w << 2);
        v128.store(q, madd(v128.load(r + (<usize>w << 2)), one, v128.load(q)));
      }
      for (; w < W; w++) {
        const q = dst + (<usize>w << 2);
        store<f32>(q, load<f32>(q) + load<f32>(r + (<usize>w << 2)));
      }
    }
  }
}
