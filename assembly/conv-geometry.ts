// The geometry every conv2d kernel shares: a descriptor in linear memory instead of a dozen size
// arguments per export, its checks, and the output sizes it implies.
import { hsum } from './simd';

/**
 * The geometry descriptor: 12 i32 slots, written by src/kernels/conv.ts in this order, for x
 * [N, C, H, W], w [CO, C / groups, KH, KW], strides SH, SW and zero padding PH, PW on each side.
 * Kernels read the slots they need into locals on entry, never inside their loops.
 */
@unmanaged
export class ConvGeometry {
  N: i32;
  C: i32;
  H: i32;
  W: i32;
  CO: i32;
  KH: i32;
  KW: i32;
  SH: i32;
  SW: i32;
  PH: i32;
  PW: i32;
  // Room for grouped (and depthwise) convolution; every kernel requires 1 for now.
  groups: i32;
}

// @ts-ignore: decorator
@inline export function geometryAt(descriptor: usize): ConvGeometry {
  return changetype<ConvGeometry>(descriptor);
}

/** Writes a descriptor at `at` (kernels that run another geometry: the fold, the warm-up). */
export function writeGeometry(
  at: usize, N: i32, C: i32, H: i32, W: i32, CO: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
): ConvGeometry {
  const g = changetype<ConvGeometry>(at);
  g.N = N;
  g.C = C;
  g.H = H;
  g.W = W;
  g.CO = CO;
  g.KH = KH;
  g.KW = KW;
  g.SH = SH;
  g.SW = SW;
  g.PH = PH;
  g.PW = PW;
  g.groups = 1;
  return g;
}

export function outSize(size: i32, k: i32, stride: i32, pad: i32): i32 {
  return (size + 2 * pad - k) / stride + 1;
}

// @ts-ignore: decorator
@inline export function outHeight(geom: ConvGeometry): i32 {
  return outSize(geom.H, geom.KH, geom.SH, geom.PH);
}

// @ts-ignore: decorator
@inline export function outWidth(geom: ConvGeometry): i32 {
  return outSize(geom.W, geom.KW, geom.SW, geom.PW);
}

export function checkGeometry(name: string, geom: ConvGeometry): void {
  const N = geom.N, C = geom.C, H = geom.H, W = geom.W, CO = geom.CO, KH = geom.KH, KW = geom.KW, SH = geom.SH, SW = geom.SW, PH = geom.PH, PW = geom.PW;
  assert(N > 0 && C > 0 && H > 0 && W > 0 && CO > 0 && KH > 0 && KW > 0, name + ': sizes must be positive');
  assert(SH > 0 && SW > 0 && PH >= 0 && PW >= 0, name + ': strides must be positive and paddings non-negative');
  assert(H + 2 * PH >= KH && W + 2 * PW >= KW, name + ': kernel is larger than the padded input');
  assert(geom.groups == 1, name + ': groups must be 1 (grouped convolution is not implemented)');
}

// The direct weight gradient sums db while it copies dy; the im2col and sparse paths call this.
// db[co] = sum over n and positions of dy[n, co, :]: per channel a vector sum and a sum of row tails,
// kept in scratch (biasGradientBytes) so dy is read in memory order, sample by sample, where a channel
// at a time would jump CO rows between its samples. Each channel adds its rows in sample order either way.
export function biasGradient(dy: usize, db: usize, N: i32, CO: i32, len: i32, scratch: usize): void {
  const tails = scratch + (<usize>CO << 4);
  memory.fill(scratch, 0, biasGradientBytes(CO));
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < CO; co++) {
      const p = dy + ((<usize>(n * CO + co) * len) << 2);
      const a = scratch + (<usize>co << 4), t = tails + (<usize>co << 2);
      let acc = v128.load(a);
      let tail = load<f32>(t);
      let i = 0;
      for (; i + 4 <= len; i += 4) acc = f32x4.add(acc, v128.load(p + (<usize>i << 2)));
      for (; i < len; i++) tail += load<f32>(p + (<usize>i << 2));
      v128.store(a, acc);
      store<f32>(t, tail);
    }
  }
  for (let co = 0; co < CO; co++) store<f32>(db + (<usize>co << 2), hsum(v128.load(scratch + (<usize>co << 4))) + load<f32>(tails + (<usize>co << 2)));
}

/** Scratch bytes of biasGradient. */
export function biasGradientBytes(CO: i32): usize {
  return <usize>CO * 20;
}
