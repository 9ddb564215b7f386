import { transposeRow } from './simd';

// Pooling over planes: P = N*C planes of H x W. 1d pooling is the same kernel with H = 1.

// Four lanes of candidates for outputs ow..ow+3 at column offset `col` (= ow*SW + kw) of a row:
// contiguous when SW = 1, a shuffle of two loads when SW = 2, else a gather.
// @ts-ignore: decorator
@inline function candidates(row: usize, col: i32, SW: i32): v128 {
  const p = row + (<usize>col << 2);
  if (SW == 1) return v128.load(p);
  if (SW == 2) return v128.shuffle<f32>(v128.load(p), v128.load(p, 12), 0, 2, 5, 7); // never reads past col + 6
  const s = <usize>SW << 2;
  return f32x4(load<f32>(p), load<f32>(p + s), load<f32>(p + 2 * s), load<f32>(p + 3 * s));
}

// One candidate of a window against the best so far: strictly greater (or NaN) takes it, so the
// first maximum in scan order stays.
// @ts-ignore: decorator
@inline function challenge(v: v128, m: v128): v128 {
  return v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
}

// Lanes of a where mask is set, else b; masks here are whole-lane (all ones or zeros), so the relaxed
// build may use the one-instruction blend.
// @ts-ignore: decorator
@inline function select(a: v128, b: v128, mask: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, mask);
  return v128.bitselect(a, b, mask);
}

// The common 2x2 stride-2 pool (Hjh's) without the general kernel's per-tap loops:
// eight inputs of each of the two rows give four outputs, split into even and odd columns by shuffles.
// Each row's pair is decided first, then the bottom winner challenges the top one; the challenge's
// rule (strictly greater, or NaN) makes this pick what a scan in row-major order picks.
function maxPool2x2(x: usize, y: usize, argmax: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  const plane = <usize>H * <usize>W;
  const rowBytes = <usize>W << 2;
  const lanes = i32x4(0, 2, 4, 6);
  const below = i32x4.splat(W);
  for (let p = 0; p < P; p++) {
    const xp = x + (<usize>p * plane << 2);
    let o = <usize>p * <usize>OH * <usize>OW << 2;
    for (let oh = 0; oh < OH; oh++) {
      const top = xp + (<usize>(2 * oh) * rowBytes);
      const bottom = top + rowBytes;
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) {
        const c = <usize>ow << 3;
        const t0 = v128.load(top + c);
        const t1 = v128.load(top + c, 16);
        const b0 = v128.load(bottom + c);
        const b1 = v128.load(bottom + c, 16);
        const tl = v128.shuffle<f32>(t0, t1, 0, 2, 4, 6);
        const tr = v128.shuffle<f32>(t0, t1, 1, 3, 5, 7);
        const bl = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
        const br = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        const takeTop = challenge(tr, tl);
        const takeBottom = challenge(br, bl);
        const mt = select(tr, tl, takeTop);
        const mb = select(br, bl, takeBottom);
        const takeLow = challenge(mb, mt);
        // A taken challenge is -1 in its lane, so subtracting it steps one column right.
        const first = i32x4.add(lanes, i32x4.splat(2 * oh * W + 2 * ow));
        const it = i32x4.sub(first, takeTop);
        const ib = i32x4.sub(i32x4.add(first, below), takeBottom);
        v128.store(y + o, select(mb, mt, takeLow));
        v128.store(argmax + o, select(ib, it, takeLow));
        o += 16;
      }
      for (; ow < OW; ow++) {
        const at = 2 * oh * W + 2 * ow;
        let best = at;
        let m = load<f32>(xp + (<usize>at << 2));
        for (let k = 1; k < 4; k++) {
          const i = at + (k >> 1) * W + (k & 1);
          const v = load<f32>(xp + (<usize>i << 2));
          if (v > m || v != v) {
            m = v;
            best = i;
          }
        }
        store<f32>(y + o, m);
        store<i32>(argmax + o, best);
        o += 4;
      }
    }
  }
}

// Windows of four along a row at stride 4 (M5's pools): four loads hold four windows, and their
// transpose holds each window's k-th candidate in lane k of one vector, so a window is decided by three
// challenges in scan order, as the general kernel decides it.
function maxPool1x4(x: usize, y: usize, argmax: usize, P: i32, H: i32, W: i32, OW: i32): void {
  const lanes = i32x4(0, 4, 8, 12);
  for (let r = 0; r < P * H; r++) {
    const xr = x + (<usize>r * <usize>W << 2);
    let o = <usize>r * <usize>OW << 2;
    // argmax indexes the plane: row r is row r % H of its plane.
    const start = (r % H) * W;
    let ow = 0;
    for (; ow + 4 <= OW; ow += 4) {
      const q = xr + (<usize>ow << 4);
      const a = v128.load(q), b = v128.load(q, 16), c = v128.load(q, 32), d = v128.load(q, 48);
      const first = i32x4.add(lanes, i32x4.splat(start + 4 * ow));
      let m = transposeRow(a, b, c, d, 0);
      let best = first;
      for (let k = 1; k < 4; k++) {
        const v = k == 1 ? transposeRow(a, b, c, d, 1) : k == 2 ? transposeRow(a, b, c, d, 2) : transposeRow(a, b, c, d, 3);
        const take = challenge(v, m);
        m = select(v, m, take);
        best = select(i32x4.add(first, i32x4.splat(k)), best, take);
      }
      v128.store(y + o, m);
      v128.store(argmax + o, best);
      o += 16;
    }
    for (; ow < OW; ow++) {
      let best = 4 * ow;
      let m = load<f32>(xr + (<usize>best << 2));
      for (let k = 1; k < 4; k++) {
        const v = load<f32>(xr + (<usize>(4 * ow + k) << 2));
        if (v > m || v != v) {
          m = v;
          best = 4 * ow + k;
        }
      }
      store<f32>(y + o, m);
      store<i32>(argmax + o, start + best);
      o += 4;
    }
  }
}

// Max over each KH x KW window (stride SH, SW; floor mode, no padding). argmax records the index of
// the winner inside its plane (h * W + w): the FIRST maximum in row-major scan order (a later value
// must be strictly greater), so ties (spike maps are full of them) send the gradient where PyTorch
// sends it. A NaN takes the window, as in PyTorch. Four outputs of a row are computed at once, branch-free.
export function maxPool2dForward(
  x: usize, y: usize, argmax: usize, P: i32, H: i32, W: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, OH: i32, OW: i32,
): void {
  assert(P > 0 && KH > 0 && KW > 0 && SH > 0 && SW > 0, 'maxPool2dForward: sizes must be > 0');
  assert(OH == (H - KH) / SH + 1 && OW == (W - KW) / SW + 1 && H >= KH && W >= KW, 'maxPool2dForward: output size does not match the input');
  if (KH == 2 && KW == 2 && SH == 2 && SW == 2) {
    maxPool2x2(x, y, argmax, P, H, W, OH, OW);
    return;
  }
  if (KH == 1 && SH == 1 && KW == 4 && SW == 4) {
    maxPool1x4(x, y, argmax, P, H, W, OW);
    return;
  }
  const plane = <usize>H * <usize>W;
  const oplane = <usize>OH * <usize>OW;
  const lanes = i32x4(0, SW, 2 * SW, 3 * SW);
  for (let p = 0; p < P; p++) {
    const xp = x + (<usize>p * plane << 2);
    const yo = <usize>p * oplane << 2;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH;
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) {
        const w0 = ow * SW;
        const base = i32x4.add(lanes, i32x4.splat(h0 * W + w0));
        let m = candidates(xp + (<usize>(h0 * W) << 2), w0, SW);
        let best = base;
        for (let kh = 0; kh < KH; kh++) {
          const row = xp + (<usize>((h0 + kh) * W) << 2);
          for (let kw = 0; kw < KW; kw++) {
            const v = candidates(row, w0 + kw, SW);
            const take = challenge(v, m);
            m = select(v, m, take);
            best = select(i32x4.add(base, i32x4.splat(kh * W + kw)), best, take);
          }
        }
        const o = yo + (<usize>(oh * OW + ow) << 2);
        v128.store(y + o, m);
        v128.store(argmax + o, best);
      }
      for (; ow < OW; ow++) {
        const w0 = ow * SW;
        let best = h0 * W + w0;
        let m = load<f32>(xp + (<usize>best << 2));
        for (let kh = 0; kh < KH; kh++) {
          const row = (h0 + kh) * W + w0;
          for (let kw = 0; kw < KW; kw++) {
            const v = load<f32>(xp + (<usize>(row + kw) << 2));
            if (v > m || v != v) {
              m = v;
              best = row + kw;
            }
          }
        }
        const o = yo + (<usize>(oh * OW + ow) << 2);
        store<f32>(y + o, m);
        store<i32>(argmax + o, best);
      }
    }
  }
}

// Writes plane dx of a pool whose every window lies in its own 2x2 block at (2*oh, 2*ow) (2x2 stride 2,
// and smaller kernels at stride 2): each input element gets its block's dy when it is the recorded
// winner, else zero, in one pass with no clearing. Returns false, leaving dx to be rewritten, when some
// winner lies outside its block (another pool made those argmaxes). 0 + dy as in the scatter, so a
// -0 comes out as +0 there too.
function spread2x2(dy: usize, argmax: usize, dx: usize, H: i32, W: i32, OH: i32, OW: i32): bool {
  const zero = f32x4.splat(0);
  const lanes = i32x4(0, 2, 4, 6);
  const vRight = i32x4.splat(1);
  const vBelow = i32x4.splat(W);
  const vBelowRight = i32x4.splat(W + 1);
  const rowBytes = <usize>W << 2;
  const tailBytes = <usize>(W - 2 * OW) << 2;
  let stray = i32x4.splat(0);
  let o: usize = 0;
  for (let oh = 0; oh < OH; oh++) {
    const top = dx + <usize>(2 * oh) * rowBytes;
    const bottom = top + rowBytes;
    let ow = 0;
    for (; ow + 4 <= OW; ow += 4) {
      const g = f32x4.add(zero, v128.load(dy + o));
      const local = i32x4.sub(v128.load(argmax + o), i32x4.add(lanes, i32x4.splat(2 * oh * W + 2 * ow)));
      const tl = i32x4.eq(local, zero);
      const tr = i32x4.eq(local, vRight);
      const bl = i32x4.eq(local, vBelow);
      const br = i32x4.eq(local, vBelowRight);
      stray = v128.or(stray, v128.not(v128.or(v128.or(tl, tr), v128.or(bl, br))));
      const gtl = v128.and(g, tl);
      const gtr = v128.and(g, tr);
      const gbl = v128.and(g, bl);
      const gbr = v128.and(g, br);
      const c = <usize>ow << 3;
      v128.store(top + c, v128.shuffle<f32>(gtl, gtr, 0, 4, 1, 5));
      v128.store(top + c, v128.shuffle<f32>(gtl, gtr, 2, 6, 3, 7), 16);
      v128.store(bottom + c, v128.shuffle<f32>(gbl, gbr, 0, 4, 1, 5));
      v128.store(bottom + c, v128.shuffle<f32>(gbl, gbr, 2, 6, 3, 7), 16);
      o += 16;
    }
    for (; ow < OW; ow++) {
      const g: f32 = 0 + load<f32>(dy + o);
      const local = load<i32>(argmax + o) - (2 * oh * W + 2 * ow);
      if (local != 0 && local != 1 && local != W && local != W + 1) return false;
      const c = <usize>ow << 3;
      store<f32>(top + c, local == 0 ? g : 0);
      store<f32>(top + c, local == 1 ? g : 0, 4);
      store<f32>(bottom + c, local == W ? g : 0);
      store<f32>(bottom + c, local == W + 1 ? g : 0, 4);
      o += 4;
    }
    const tail = <usize>(2 * OW) << 2;
    memory.fill(top + tail, 0, tailBytes);
    memory.fill(bottom + tail, 0, tailBytes);
  }
  memory.fill(dx + <usize>(2 * OH) * rowBytes, 0, <usize>(H - 2 * OH) * rowBytes);
  return !v128.any_true(stray);
}

// Writes a plane of dx (H rows of W) whose every window lies in its own block of four at 4*ow of its
// row (pools of four at stride 4 along rows, and smaller ones at stride 4) in one pass, as spread2x2
// does: false, leaving dx to be rewritten, when some winner lies outside its block.
function spread1x4(dy: usize, argmax: usize, dx: usize, H: i32, W: i32, OW: i32): bool {
  const zero = f32x4.splat(0);
  const lanes = i32x4(0, 4, 8, 12);
  let stray = i32x4.splat(0);
  for (let h = 0; h < H; h++) {
    const dyr = dy + (<usize>(h * OW) << 2), ar = argmax + (<usize>(h * OW) << 2), dxr = dx + (<usize>(h * W) << 2);
    let ow = 0;
    for (; ow + 4 <= OW; ow += 4) {
      const o = <usize>ow << 2;
      const g = f32x4.add(zero, v128.load(dyr + o));
      const local = i32x4.sub(v128.load(ar + o), i32x4.add(lanes, i32x4.splat(h * W + 4 * ow)));
      const k0 = i32x4.eq(local, i32x4.splat(0)), k1 = i32x4.eq(local, i32x4.splat(1));
      const k2 = i32x4.eq(local, i32x4.splat(2)), k3 = i32x4.eq(local, i32x4.splat(3));
      stray = v128.or(stray, v128.not(v128.or(v128.or(k0, k1), v128.or(k2, k3))));
      const g0 = v128.and(g, k0), g1 = v128.and(g, k1), g2 = v128.and(g, k2), g3 = v128.and(g, k3);
      const q = dxr + (<usize>ow << 4);
      v128.store(q, transposeRow(g0, g1, g2, g3, 0));
      v128.store(q, transposeRow(g0, g1, g2, g3, 1), 16);
      v128.store(q, transposeRow(g0, g1, g2, g3, 2), 32);
      v128.store(q, transposeRow(g0, g1, g2, g3, 3), 48);
    }
    for (; ow < OW; ow++) {
      const g: f32 = 0 + load<f32>(dyr + (<usize>ow << 2));
      const local = load<i32>(ar + (<usize>ow << 2)) - h * W - 4 * ow;
      if (local < 0 || local > 3) return false;
      const q = dxr + (<usize>ow << 4);
      for (let k = 0; k < 4; k++) store<f32>(q + (<usize>k << 2), local == k ? g : 0);
    }
    // The few values past the last window (memory.fill is a call into the host).
    for (let i = 4 * OW; i < W; i++) store<f32>(dxr + (<usize>i << 2), 0);
  }
  return !v128.any_true(stray);
}

// dx = 0, then each dy goes to its window's recorded winner; overlapping windows (stride < kernel)
// may share a winner, so the contributions add. Planes whose winners all lie in 2x2 blocks at stride 2
// (the common pool), or in blocks of four along a row at stride 4 (M5's), are written in one pass instead.
export function maxPool2dBackward(dy: usize, argmax: usize, dx: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  assert(P > 0 && H > 0 && W > 0 && OH > 0 && OW > 0, 'maxPool2dBackward: sizes must be > 0');
  const plane = H * W;
  const oplane = OH * OW;
  const blocks = 2 * OH <= H && 2 * OW <= W;
  for (let p = 0; p < P; p++) {
    const xp = dx + (<usize>p * <usize>plane << 2);
    const yo = <usize>p * <usize>oplane << 2;
    if (blocks && spread2x2(dy + yo, argmax + yo, xp, H, W, OH, OW)) continue;
    if (OH == H && 4 * OW <= W && spread1x4(dy + yo, argmax + yo, xp, H, W, OW)) continue;
    // Cleared plane by plane, so the scatter finds its lines still in cache.
    memory.fill(xp, 0, <usize>plane << 2);
    for (let i = 0; i < oplane; i++) {
      const o = yo + (<usize>i << 2);
      const at = xp + (<usize>load<i32>(argmax + o) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(dy + o));
    }
  }
}
