// Adaptive average pooling over planes [P, H, W] -> [P, OH, OW] with PyTorch's bins, and its backward.
import { addForward } from './elementwise';
import { spanSum } from './simd';

// Adds g to each of the n f32 values at p, or stores g there when `set` (a bin that owns its elements).
// @ts-ignore: decorator
@inline function spanAdd(p: usize, n: i32, g: f32, set: bool): void {
  const vg = f32x4.splat(g);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = p + (<usize>i << 2);
    v128.store(o, set ? vg : f32x4.add(v128.load(o), vg));
  }
  for (; i < n; i++) {
    const o = p + (<usize>i << 2);
    store<f32>(o, set ? g : load<f32>(o) + g);
  }
}

// PyTorch's adaptive bins: bin i of `out` over `len` covers [floor(i*len/out), ceil((i+1)*len/out)),
// so neighbouring bins may share an element when len is not a multiple of out.
// @ts-ignore: decorator
@inline function binStart(i: i32, len: i32, out: i32): i32 {
  return <i32>((<i64>i * <i64>len) / <i64>out);
}
// @ts-ignore: decorator
@inline function binEnd(i: i32, len: i32, out: i32): i32 {
  return <i32>(((<i64>(i + 1) * <i64>len) + <i64>out - 1) / <i64>out);
}

// A bin's rows are added into `rows` (W floats of scratch) once per row of bins, so each bin of
// columns is one contiguous span of those sums: per plane H·W/4 vector adds and OH·OW short spans,
// where summing every bin row by row would take OH·OW·(rows per bin) spans, each ending in a
// horizontal add and a scalar tail (Tcy's 60x134 -> 10x10: 600 spans of 13-14 floats a plane).
export function adaptiveAvgPool2dForward(x: usize, y: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32, rows: usize): void {
  assert(P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0, 'adaptiveAvgPool2dForward: sizes must be > 0');
  const plane = <usize>H * <usize>W;
  const oplane = <usize>OH * <usize>OW;
  for (let p = 0; p < P; p++) {
    const xp = x + (<usize>p * plane << 2);
    const yp = y + (<usize>p * oplane << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = binStart(oh, H, OH);
      const h1 = binEnd(oh, H, OH);
      const first = xp + (<usize>(h0 * W) << 2);
      // A bin as wide as the plane is one contiguous span (global pooling: the whole plane).
      if (OW == 1) {
        store<f32>(yp + (<usize>oh << 2), spanSum(first, (h1 - h0) * W) / <f32>((h1 - h0) * W));
        continue;
      }
      // A bin one row high reads its row in place.
      let sums = first;
      if (h1 - h0 > 1) {
        sums = rows;
        addForward(first, first + (<usize>W << 2), rows, W);
        for (let h = h0 + 2; h < h1; h++) addForward(rows, xp + (<usize>(h * W) << 2), rows, W);
      }
      for (let ow = 0; ow < OW; ow++) {
        const w0 = binStart(ow, W, OW);
        const w1 = binEnd(ow, W, OW);
        store<f32>(yp + (<usize>(oh * OW + ow) << 2), spanSum(sums + (<usize>w0 << 2), w1 - w0) / <f32>((h1 - h0) * (w1 - w0)));
      }
    }
  }
}

// Spreads each bin's dy / (bin size) over its elements, plane by plane. Unless `set` (the bins
// partition the plane, so each element has one bin and is written once), a plane is cleared first and
// shared elements collect from both bins; clearing just before keeps the plane in cache.
// @ts-ignore: decorator
@inline function adaptiveAvgPool2dSpread(dy: usize, dx: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32, set: bool): void {
  const plane = <usize>H * <usize>W;
  const oplane = <usize>OH * <usize>OW;
  for (let p = 0; p < P; p++) {
    const xp = dx + (<usize>p * plane << 2);
    const yp = dy + (<usize>p * oplane << 2);
    if (!set) memory.fill(xp, 0, plane << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = binStart(oh, H, OH);
      const h1 = binEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = binStart(ow, W, OW);
        const w1 = binEnd(ow, W, OW);
        const g = load<f32>(yp + (<usize>(oh * OW + ow) << 2)) / <f32>((h1 - h0) * (w1 - w0));
        if (w1 - w0 == W) spanAdd(xp + (<usize>(h0 * W) << 2), (h1 - h0) * W, g, set);
        else for (let h = h0; h < h1; h++) spanAdd(xp + (<usize>(h * W + w0) << 2), w1 - w0, g, set);
      }
    }
  }
}

// dx = each bin's dy spread evenly over it; elements in two bins collect from both.
export function adaptiveAvgPool2dBackward(dy: usize, dx: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  assert(P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0, 'adaptiveAvgPool2dBackward: sizes must be > 0');
  if (H % OH == 0 && W % OW == 0) adaptiveAvgPool2dSpread(dy, dx, P, H, W, OH, OW, true);
  else adaptiveAvgPool2dSpread(dy, dx, P, H, W, OH, OW, false);
}
