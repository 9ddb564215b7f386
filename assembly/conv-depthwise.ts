// Depthwise 2d convolution (PyTorch's Conv2d with groups = in = out channels): channel c has its own
// KH x KW filter and reads only its own plane,
//   y[n,c,oh,ow] = b[c] + Σ_kh Σ_kw w[c,kh,kw] · x[n,c, oh·SH + kh·DH − PH, ow·SW + kw·DW − PW]
// with dilations DH, DW (zeros outside x). A plane does K = KH·KW multiply-adds per output, so the
// kernels are bound by memory, not arithmetic: rows are read in place, taps that fall above or below
// the plane are skipped per output row, and only a plane padded along W is copied once into scratch
// with zero columns either side, so at SW = 1 four neighbouring outputs read a tap with one vector load.
//
// Planes (n, c) are independent in forward and input gradient, so a call takes a band of P planes
// starting at channel c0; the weight gradient sums over samples, so a call takes a band of channels.
import { axpy, hsum, madd, spanSum } from './simd';

function checkSizes(name: string, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32): void {
  assert(H > 0 && W > 0 && KH > 0 && KW > 0 && SH > 0 && SW > 0 && DH > 0 && DW > 0, name + ': sizes, strides and dilations must be positive');
  assert(PH >= 0 && PW >= 0, name + ': paddings must be non-negative');
  assert(H + 2 * PH >= (KH - 1) * DH + 1 && W + 2 * PW >= (KW - 1) * DW + 1, name + ': the dilated kernel is larger than the padded input');
}

// @ts-ignore: decorator
@inline function outSize(n: i32, k: i32, s: i32, p: i32, d: i32): i32 {
  return (n + 2 * p - (k - 1) * d - 1) / s + 1;
}

// The first tap kh with 0 <= row + kh·D < H, and one past the last.
// @ts-ignore: decorator
@inline function firstTap(row: i32, D: i32): i32 {
  return row >= 0 ? 0 : (-row + D - 1) / D;
}
// @ts-ignore: decorator
@inline function endTap(row: i32, D: i32, K: i32, H: i32): i32 {
  const end = row < H ? (H - 1 - row) / D + 1 : 0;
  return end < K ? end : K;
}

/**
 * Scratch of every call: the largest of a plane padded along W (forward, weight gradient), dy padded
 * by (KW−1)·DW − PW (input gradient at stride 1) and a plane padded on all sides (input gradient
 * scattered), plus the K taps of a flipped filter.
 */
export function depthwiseScratchBytes(H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, PH: i32, PW: i32, DW: i32): usize {
  const back = (KW - 1) * DW - PW;
  const gathered = <usize>OH * (OW + 2 * (back > 0 ? back : 0));
  const scattered = <usize>(H + 2 * PH) * (W + 2 * PW);
  return ((gathered > scattered ? gathered : scattered) + <usize>KH * KW) << 2;
}

/**
 * One plane's correlation: y[oh, ow] = bias + Σ t[kh, kw] · src[oh·SH + kh·DH − PH, ow·SW + kw·DW − PW]
 * over src [H, W] (zero outside), y [OH, OW]. With PW > 0 the plane is copied into `pad` first.
 */
function correlatePlane(
  src: usize, H: i32, W: i32, t: usize, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32,
  bias: f32, y: usize, OH: i32, OW: i32, pad: usize,
): void {
  let rows = src, Wp = W;
  if (PW > 0) {
    Wp = W + 2 * PW;
    for (let h = 0; h < H; h++) memory.copy(pad + (<usize>(h * Wp + PW) << 2), src + (<usize>(h * W) << 2), <usize>W << 2);
    rows = pad;
  }
  for (let oh = 0; oh < OH; oh++) {
    const top = oh * SH - PH;
    const k0 = firstTap(top, DH), k1 = endTap(top, DH, KH, H);
    const yr = y + (<usize>(oh * OW) << 2);
    let ow = 0;
    // Three taps in reach (BC-ResNet's 3x1 and 1x3 filters away from the plane's edge): three row
    // pointers and three broadcast weights held in registers for the whole row.
    if (SW == 1 && OW >= 4 && (k1 - k0) * KW == 3) {
      const first = (k0 * KW) << 2;
      const o1 = KW == 3 ? DW : Wp * DH, o2 = 2 * o1;
      const r0 = rows + (<usize>(top + k0 * DH) * Wp << 2);
      const t0 = f32x4.splat(load<f32>(t + first)), t1 = f32x4.splat(load<f32>(t + first, 4)), t2 = f32x4.splat(load<f32>(t + first, 8));
      const b4 = f32x4.splat(bias);
      for (; ow + 8 <= OW; ow += 8) {
        const q = r0 + (<usize>ow << 2);
        const a0 = madd(v128.load(q + (<usize>o2 << 2)), t2, madd(v128.load(q + (<usize>o1 << 2)), t1, madd(v128.load(q), t0, b4)));
        const a1 = madd(v128.load(q + (<usize>o2 << 2), 16), t2, madd(v128.load(q + (<usize>o1 << 2), 16), t1, madd(v128.load(q, 16), t0, b4)));
        v128.store(yr + (<usize>ow << 2), a0);
        v128.store(yr + (<usize>ow << 2), a1, 16);
      }
      while (ow < OW) {
        if (ow + 4 > OW) ow = OW - 4;
        const q = r0 + (<usize>ow << 2);
        v128.store(yr + (<usize>ow << 2), madd(v128.load(q + (<usize>o2 << 2)), t2, madd(v128.load(q + (<usize>o1 << 2)), t1, madd(v128.load(q), t0, b4))));
        ow += 4;
      }
      continue;
    }
    if (SW == 1 && OW >= 4) {
      for (; ow + 8 <= OW; ow += 8) {
        let a0 = f32x4.splat(bias), a1 = a0;
        for (let kh = k0; kh < k1; kh++) {
          const row = rows + (<usize>((top + kh * DH) * Wp + ow) << 2);
          for (let kw = 0; kw < KW; kw++) {
            const tap = f32x4.splat(load<f32>(t + (<usize>(kh * KW + kw) << 2)));
            const q = row + (<usize>(kw * DW) << 2);
            a0 = madd(v128.load(q), tap, a0);
            a1 = madd(v128.load(q, 16), tap, a1);
          }
        }
        v128.store(yr + (<usize>ow << 2), a0);
        v128.store(yr + (<usize>ow << 2), a1, 16);
      }
      // The last 1-7 outputs as one or two blocks of 4, the last ending at OW (it may redo a few).
      while (ow < OW) {
        if (ow + 4 > OW) ow = OW - 4;
        let a = f32x4.splat(bias);
        for (let kh = k0; kh < k1; kh++) {
          const row = rows + (<usize>((top + kh * DH) * Wp + ow) << 2);
          for (let kw = 0; kw < KW; kw++) a = madd(v128.load(row + (<usize>(kw * DW) << 2)), f32x4.splat(load<f32>(t + (<usize>(kh * KW + kw) << 2))), a);
        }
        v128.store(yr + (<usize>ow << 2), a);
        ow += 4;
      }
      continue;
    }
    for (; ow < OW; ow++) {
      let s = bias;
      for (let kh = k0; kh < k1; kh++) {
        const row = rows + (<usize>((top + kh * DH) * Wp + ow * SW) << 2);
        for (let kw = 0; kw < KW; kw++) s += load<f32>(t + (<usize>(kh * KW + kw) << 2)) * load<f32>(row + (<usize>(kw * DW) << 2));
      }
      store<f32>(yr + (<usize>ow << 2), s);
    }
  }
}

/** y = the depthwise correlation of P planes of x (channels c0, c0+1, ... modulo C) with w [C, KH, KW], + b (0: none). */
export function depthwiseForward(
  x: usize, w: usize, b: usize, y: usize, P: i32, C: i32, c0: i32,
  H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, scratch: usize,
): void {
  checkSizes('depthwiseForward', H, W, KH, KW, SH, SW, PH, PW, DH, DW);
  const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
  const K = KH * KW;
  // Zero columns either side of a padded plane: written once, never overwritten.
  if (PW > 0) memory.fill(scratch, 0, <usize>H * (W + 2 * PW) << 2);
  for (let p = 0; p < P; p++) {
    const c = (c0 + p) % C;
    const bias: f32 = b ? load<f32>(b + (<usize>c << 2)) : 0;
    correlatePlane(x + (<usize>p * H * W << 2), H, W, w + (<usize>(c * K) << 2), KH, KW, SH, SW, PH, PW, DH, DW, bias,
      y + (<usize>p * OH * OW << 2), OH, OW, scratch);
  }
}

/**
 * One plane's dx at SW = 1, a row at a time: row h of dx gathers the dy rows oh = (h + PH − kh·DH) / SH
 * that are whole, dx[h, w] = Σ wc[kh, kw] · dy[oh, w + PW − kw·DW], so each row is written once. A
 * frequency filter (KW = 1, no padding along W: BC-ResNet's at SH = 2) reads its one or two dy rows
 * in registers; any other filter adds each tap's run into the zeroed row. Taps go from the last to the
 * first, dy's rows in ascending order, as a scatter over dy would add them.
 */
function gatherPlane(
  wc: usize, dyp: usize, dxp: usize, H: i32, W: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, PH: i32, PW: i32, DH: i32, DW: i32,
): void {
  for (let h = 0; h < H; h++) {
    const dst = dxp + (<usize>(h * W) << 2);
    if (KW == 1 && PW == 0) {
      let n = 0;
      let r0: usize = 0, r1: usize = 0;
      let w0: f32 = 0, w1: f32 = 0;
      for (let kh = KH - 1; kh >= 0; kh--) {
        const t = h + PH - kh * DH;
        if (t < 0 || t % SH != 0) continue;
        if (t / SH >= OH) break;
        const row = dyp + (<usize>(t / SH * W) << 2);
        if (n == 0) { r0 = row; w0 = load<f32>(wc + (<usize>kh << 2)); }
        else if (n == 1) { r1 = row; w1 = load<f32>(wc + (<usize>kh << 2)); }
        n++;
      }
      if (n <= 2) {
        const a = f32x4.splat(w0), b = f32x4.splat(w1);
        let i = 0;
        if (n == 0) memory.fill(dst, 0, <usize>W << 2);
        else if (n == 1) {
          for (; i + 4 <= W; i += 4) v128.store(dst + (<usize>i << 2), f32x4.mul(v128.load(r0 + (<usize>i << 2)), a));
          for (; i < W; i++) store<f32>(dst + (<usize>i << 2), load<f32>(r0 + (<usize>i << 2)) * w0);
        } else {
          for (; i + 4 <= W; i += 4) {
            const o = <usize>i << 2;
            v128.store(dst + o, madd(v128.load(r1 + o), b, f32x4.mul(v128.load(r0 + o), a)));
          }
          for (; i < W; i++) store<f32>(dst + (<usize>i << 2), load<f32>(r0 + (<usize>i << 2)) * w0 + load<f32>(r1 + (<usize>i << 2)) * w1);
        }
        continue;
      }
    }
    memory.fill(dst, 0, <usize>W << 2);
    for (let kh = KH - 1; kh >= 0; kh--) {
      const t = h + PH - kh * DH;
      if (t < 0 || t % SH != 0) continue;
      if (t / SH >= OH) break;
      const row = dyp + (<usize>(t / SH * OW) << 2);
      for (let kw = KW - 1; kw >= 0; kw--) {
        // Columns w whose ow = w + PW − kw·DW falls inside [0, OW).
        const shift = PW - kw * DW;
        const lo = max(0, -shift), hi = min(W, OW - shift);
        if (hi > lo) axpy(dst + (<usize>lo << 2), row + (<usize>(lo + shift) << 2), hi - lo, load<f32>(wc + (<usize>(kh * KW + kw) << 2)));
      }
    }
  }
}

/**
 * dx (overwritten) = ∂ sum(dy·y) / ∂x for P planes. At stride 1 it is dy correlated with the filter
 * turned by 180 degrees, padded by (K−1)·D − P; at other strides along H (or a padding wider than the
 * kernel) each row of dx gathers the rows of dy that read it; at strides along W each dy is scattered
 * back through its taps into a padded plane whose interior is then dx.
 */
export function depthwiseBackwardInput(
  w: usize, dy: usize, dx: usize, P: i32, C: i32, c0: i32,
  H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, scratch: usize,
): void {
  checkSizes('depthwiseBackwardInput', H, W, KH, KW, SH, SW, PH, PW, DH, DW);
  const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
  const K = KH * KW;
  const QH = (KH - 1) * DH - PH, QW = (KW - 1) * DW - PW;
  if (SH == 1 && SW == 1 && QH >= 0 && QW >= 0) {
    const flipped = scratch + (<usize>OH * (OW + 2 * QW) << 2);
    if (QW > 0) memory.fill(scratch, 0, <usize>OH * (OW + 2 * QW) << 2);
    for (let p = 0; p < P; p++) {
      const wc = w + (<usize>(((c0 + p) % C) * K) << 2);
      for (let i = 0; i < K; i++) store<f32>(flipped + (<usize>i << 2), load<f32>(wc + (<usize>(K - 1 - i) << 2)));
      correlatePlane(dy + (<usize>p * OH * OW << 2), OH, OW, flipped, KH, KW, 1, 1, QH, QW, DH, DW, 0,
        dx + (<usize>p * H * W << 2), H, W, scratch);
    }
    return;
  }
  if (SW == 1) {
    for (let p = 0; p < P; p++)
      gatherPlane(w + (<usize>(((c0 + p) % C) * K) << 2), dy + (<usize>p * OH * OW << 2), dx + (<usize>p * H * W << 2), H, W, OH, OW, KH, KW, SH, PH, PW, DH, DW);
    return;
  }
  const Hp = H + 2 * PH, Wp = W + 2 * PW;
  for (let p = 0; p < P; p++) {
    const wc = w + (<usize>(((c0 + p) % C) * K) << 2);
    memory.fill(scratch, 0, <usize>Hp * Wp << 2);
    const dyp = dy + (<usize>p * OH * OW << 2);
    for (let oh = 0; oh < OH; oh++) {
      const top = scratch + (<usize>(oh * SH * Wp) << 2);
      const dr = dyp + (<usize>(oh * OW) << 2);
      let ow = 0;
      if (SW == 1) {
        for (; ow + 4 <= OW; ow += 4) {
          const g = v128.load(dr + (<usize>ow << 2));
          for (let kh = 0; kh < KH; kh++) {
            const row = top + (<usize>(kh * DH * Wp + ow) << 2);
            for (let kw = 0; kw < KW; kw++) {
              const q = row + (<usize>(kw * DW) << 2);
              v128.store(q, madd(g, f32x4.splat(load<f32>(wc + (<usize>(kh * KW + kw) << 2))), v128.load(q)));
            }
          }
        }
      }
      for (; ow < OW; ow++) {
        const g = load<f32>(dr + (<usize>ow << 2));
        for (let kh = 0; kh < KH; kh++) {
          const row = top + (<usize>(kh * DH * Wp + ow * SW) << 2);
          for (let kw = 0; kw < KW; kw++) {
            const q = row + (<usize>(kw * DW) << 2);
            store<f32>(q, load<f32>(q) + g * load<f32>(wc + (<usize>(kh * KW + kw) << 2)));
          }
        }
      }
    }
    const dxp = dx + (<usize>p * H * W << 2);
    for (let h = 0; h < H; h++) memory.copy(dxp + (<usize>(h * W) << 2), scratch + (<usize>((h + PH) * Wp + PW) << 2), <usize>W << 2);
  }
}

/**
 * One plane's share of a three-tap filter's gradient (3x1 when `vertical`, else 1x3), added into
 * dwc[0..2]: dy is read once for the three taps, each tap's row in place; a tap whose row falls outside
 * the plane (the first and last output rows of a 3x1) is left out of that row.
 */
function threeTapWeightGrad(rows: usize, dyp: usize, dwc: usize, H: i32, Wp: i32, OH: i32, OW: i32, vertical: i32, SH: i32, PH: i32, DH: i32, DW: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0;
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0;
  for (let oh = 0; oh < OH; oh++) {
    const top = oh * SH - PH;
    const dr = dyp + (<usize>(oh * OW) << 2);
    // Tap i's first input: row top + i·DH (vertical) or column i·DW of row top.
    const in0 = top >= 0 && top < H;
    const in1 = vertical ? top + DH >= 0 && top + DH < H : in0;
    const in2 = vertical ? top + 2 * DH >= 0 && top + 2 * DH < H : in0;
    const step = vertical ? Wp * DH : DW;
    const q0 = rows + (<usize>(top * Wp) << 2);
    const q1 = q0 + (<usize>step << 2), q2 = q1 + (<usize>step << 2);
    let ow = 0;
    if (in0 && in1 && in2) {
      for (; ow + 4 <= OW; ow += 4) {
        const g = v128.load(dr + (<usize>ow << 2));
        const o = <usize>ow << 2;
        a0 = madd(v128.load(q0 + o), g, a0);
        a1 = madd(v128.load(q1 + o), g, a1);
        a2 = madd(v128.load(q2 + o), g, a2);
      }
      for (; ow < OW; ow++) {
        const g = load<f32>(dr + (<usize>ow << 2));
        const o = <usize>ow << 2;
        s0 += load<f32>(q0 + o) * g;
        s1 += load<f32>(q1 + o) * g;
        s2 += load<f32>(q2 + o) * g;
      }
      continue;
    }
    for (; ow + 4 <= OW; ow += 4) {
      const g = v128.load(dr + (<usize>ow << 2));
      const o = <usize>ow << 2;
      if (in0) a0 = madd(v128.load(q0 + o), g, a0);
      if (in1) a1 = madd(v128.load(q1 + o), g, a1);
      if (in2) a2 = madd(v128.load(q2 + o), g, a2);
    }
    for (; ow < OW; ow++) {
      const g = load<f32>(dr + (<usize>ow << 2));
      const o = <usize>ow << 2;
      if (in0) s0 += load<f32>(q0 + o) * g;
      if (in1) s1 += load<f32>(q1 + o) * g;
      if (in2) s2 += load<f32>(q2 + o) * g;
    }
  }
  store<f32>(dwc, load<f32>(dwc) + hsum(a0) + s0);
  store<f32>(dwc, load<f32>(dwc, 4) + hsum(a1) + s1, 4);
  store<f32>(dwc, load<f32>(dwc, 8) + hsum(a2) + s2, 8);
}

/**
 * dw [C, KH, KW] and db [C] (0: skipped), overwritten for channels c0 <= c < c1, summed over the N
 * samples of x [N, C, H, W] and dy [N, C, OH, OW]:
 *   dw[c,kh,kw] = Σ_n Σ_oh Σ_ow dy[n,c,oh,ow] · x[n,c, oh·SH + kh·DH − PH, ow·SW + kw·DW − PW]
 */
export function depthwiseBackwardWeight(
  x: usize, dy: usize, dw: usize, db: usize, N: i32, C: i32, c0: i32, c1: i32,
  H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, scratch: usize,
): void {
  checkSizes('depthwiseBackwardWeight', H, W, KH, KW, SH, SW, PH, PW, DH, DW);
  assert(N > 0 && 0 <= c0 && c0 <= c1 && c1 <= C, 'depthwiseBackwardWeight: the channel band must lie in [0, C)');
  const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
  const K = KH * KW;
  const Wp = W + 2 * PW;
  if (PW > 0) memory.fill(scratch, 0, <usize>H * Wp << 2);
  memory.fill(dw + (<usize>(c0 * K) << 2), 0, <usize>((c1 - c0) * K) << 2);
  if (db) memory.fill(db + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  // Planes in memory order, sample by sample (a channel at a time would jump C planes between its
  // samples); each channel still adds its samples in order, so the sums are the same to the bit.
  for (let n = 0; n < N; n++) {
    for (let c = c0; c < c1; c++) {
      const dwc = dw + (<usize>(c * K) << 2);
      const plane = <usize>(n * C + c);
      let rows = x + (plane * H * W << 2);
      if (PW > 0) {
        for (let h = 0; h < H; h++) memory.copy(scratch + (<usize>(h * Wp + PW) << 2), rows + (<usize>(h * W) << 2), <usize>W << 2);
        rows = scratch;
      }
      const dyp = dy + (plane * OH * OW << 2);
      if (db) store<f32>(db + (<usize>c << 2), load<f32>(db + (<usize>c << 2)) + spanSum(dyp, OH * OW));
      if (K == 3 && SW == 1) {
        threeTapWeightGrad(rows, dyp, dwc, H, Wp, OH, OW, KW == 3 ? 0 : 1, SH, PH, DH, DW);
        continue;
      }
      for (let kh = 0; kh < KH; kh++) {
        // The output rows whose tap kh lands inside the plane.
        const lo = PH - kh * DH > 0 ? (PH - kh * DH + SH - 1) / SH : 0;
        const last = (H - 1 + PH - kh * DH) >= 0 ? (H - 1 + PH - kh * DH) / SH : -1;
        const hi = last + 1 < OH ? last + 1 : OH;
        for (let kw = 0; kw < KW; kw++) {
          let a0 = f32x4.splat(0), a1 = a0;
          let s: f32 = 0;
          for (let oh = lo; oh < hi; oh++) {
            const row = rows + (<usize>((oh * SH + kh * DH - PH) * Wp + kw * DW) << 2);
            const dr = dyp + (<usize>(oh * OW) << 2);
            let ow = 0;
            if (SW == 1) {
              for (; ow + 8 <= OW; ow += 8) {
                a0 = madd(v128.load(row + (<usize>ow << 2)), v128.load(dr + (<usize>ow << 2)), a0);
                a1 = madd(v128.load(row + (<usize>ow << 2), 16), v128.load(dr + (<usize>ow << 2), 16), a1);
              }
              for (; ow + 4 <= OW; ow += 4) a0 = madd(v128.load(row + (<usize>ow << 2)), v128.load(dr + (<usize>ow << 2)), a0);
            }
            for (; ow < OW; ow++) s += load<f32>(row + (<usize>(ow * SW) << 2)) * load<f32>(dr + (<usize>ow << 2));
          }
          const at = dwc + (<usize>(kh * KW + kw) << 2);
          store<f32>(at, load<f32>(at) + hsum(f32x4.add(a0, a1)) + s);
        }
      }
    }
  }
}
