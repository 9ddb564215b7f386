// Depthwise 2d convolution (PyTorch's Conv2d with groups = in = out channels): channel c has its own
// KH x KW filter and reads only its own plane,
//   y[n,c,oh,ow] = b[c] + Σ_kh Σ_kw w[c,kh,kw] · x[n,c, oh·SH + kh·DH − PH, ow·SW + kw·DW − PW]
// with dilations DH, DW (zeros outside x). A plane does K = KH·KW multiply-adds per output, so the
// kernels are bound by memory, not arithmetic: each plane is copied once into a zero-padded scratch
// plane so the inner loops need no bounds checks and, at SW = 1, four neighbouring outputs read their
// tap with one unaligned vector load.
//
// Planes (n, c) are independent in forward and input gradient, so a call takes a band of P planes
// starting at channel c0; the weight gradient sums over samples, so a call takes a band of channels.
import { hsum, madd } from './simd';

// Padded plane: Hp rows of Wp floats, x's plane at row PH, column PW, zeros around it.
// @ts-ignore: decorator
@inline function padPlane(src: usize, dst: usize, H: i32, W: i32, Wp: i32, PH: i32, PW: i32): void {
  for (let h = 0; h < H; h++) memory.copy(dst + (<usize>((h + PH) * Wp + PW) << 2), src + (<usize>(h * W) << 2), <usize>W << 2);
}

function checkSizes(name: string, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32): void {
  assert(H > 0 && W > 0 && KH > 0 && KW > 0 && SH > 0 && SW > 0 && DH > 0 && DW > 0, name + ': sizes, strides and dilations must be positive');
  assert(PH >= 0 && PW >= 0, name + ': paddings must be non-negative');
  assert(H + 2 * PH >= (KH - 1) * DH + 1 && W + 2 * PW >= (KW - 1) * DW + 1, name + ': the dilated kernel is larger than the padded input');
}

// @ts-ignore: decorator
@inline function outSize(n: i32, k: i32, s: i32, p: i32, d: i32): i32 {
  return (n + 2 * p - (k - 1) * d - 1) / s + 1;
}

/** Scratch of forward and input gradient: one padded plane. */
export function depthwiseScratchBytes(H: i32, W: i32, PH: i32, PW: i32): usize {
  return <usize>(H + 2 * PH) * <usize>(W + 2 * PW) << 2;
}

/** y = the depthwise correlation of P planes of x (channels c0, c0+1, ... modulo C) with w [C, KH, KW], + b (0: none). */
export function depthwiseForward(
  x: usize, w: usize, b: usize, y: usize, P: i32, C: i32, c0: i32,
  H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, scratch: usize,
): void {
  checkSizes('depthwiseForward', H, W, KH, KW, SH, SW, PH, PW, DH, DW);
  const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
  const Hp = H + 2 * PH, Wp = W + 2 * PW, K = KH * KW;
  memory.fill(scratch, 0, <usize>Hp * Wp << 2);
  for (let p = 0; p < P; p++) {
    const c = (c0 + p) % C;
    const wc = w + (<usize>(c * K) << 2);
    const bias: f32 = b ? load<f32>(b + (<usize>c << 2)) : 0;
    padPlane(x + (<usize>p * H * W << 2), scratch, H, W, Wp, PH, PW);
    const yp = y + (<usize>p * OH * OW << 2);
    for (let oh = 0; oh < OH; oh++) {
      const top = scratch + (<usize>(oh * SH * Wp) << 2);
      const yr = yp + (<usize>(oh * OW) << 2);
      let ow = 0;
      if (SW == 1) {
        for (; ow + 8 <= OW; ow += 8) {
          let a0 = f32x4.splat(bias), a1 = a0;
          for (let kh = 0; kh < KH; kh++) {
            const row = top + (<usize>(kh * DH * Wp + ow) << 2);
            for (let kw = 0; kw < KW; kw++) {
              const t = f32x4.splat(load<f32>(wc + (<usize>(kh * KW + kw) << 2)));
              const q = row + (<usize>(kw * DW) << 2);
              a0 = madd(v128.load(q), t, a0);
              a1 = madd(v128.load(q, 16), t, a1);
            }
          }
          v128.store(yr + (<usize>ow << 2), a0);
          v128.store(yr + (<usize>ow << 2), a1, 16);
        }
      }
      for (; ow < OW; ow++) {
        let s = bias;
        for (let kh = 0; kh < KH; kh++) {
          const row = top + (<usize>(kh * DH * Wp + ow * SW) << 2);
          for (let kw = 0; kw < KW; kw++) s += load<f32>(wc + (<usize>(kh * KW + kw) << 2)) * load<f32>(row + (<usize>(kw * DW) << 2));
        }
        store<f32>(yr + (<usize>ow << 2), s);
      }
    }
  }
}

/**
 * dx (overwritten) = ∂ sum(dy·y) / ∂x for P planes: each dy scattered back through its taps into a
 * padded plane, whose interior is then dx. Scattering rather than correlating with the flipped filter
 * serves every stride and dilation with one loop.
 */
export function depthwiseBackwardInput(
  w: usize, dy: usize, dx: usize, P: i32, C: i32, c0: i32,
  H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, scratch: usize,
): void {
  checkSizes('depthwiseBackwardInput', H, W, KH, KW, SH, SW, PH, PW, DH, DW);
  const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
  const Hp = H + 2 * PH, Wp = W + 2 * PW, K = KH * KW;
  for (let p = 0; p < P; p++) {
    const c = (c0 + p) % C;
    const wc = w + (<usize>(c * K) << 2);
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
  const Hp = H + 2 * PH, Wp = W + 2 * PW, K = KH * KW;
  memory.fill(scratch, 0, <usize>Hp * Wp << 2);
  for (let c = c0; c < c1; c++) {
    const dwc = dw + (<usize>(c * K) << 2);
    memory.fill(dwc, 0, <usize>K << 2);
    let bias: f32 = 0;
    for (let n = 0; n < N; n++) {
      const plane = <usize>(n * C + c);
      padPlane(x + (plane * H * W << 2), scratch, H, W, Wp, PH, PW);
      const dyp = dy + (plane * OH * OW << 2);
      if (db) for (let i = 0; i < OH * OW; i++) bias += load<f32>(dyp + (<usize>i << 2));
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          let acc = f32x4.splat(0);
          let s: f32 = 0;
          for (let oh = 0; oh < OH; oh++) {
            const row = scratch + (<usize>((oh * SH + kh * DH) * Wp + kw * DW) << 2);
            const dr = dyp + (<usize>(oh * OW) << 2);
            let ow = 0;
            if (SW == 1) for (; ow + 4 <= OW; ow += 4) acc = madd(v128.load(row + (<usize>ow << 2)), v128.load(dr + (<usize>ow << 2)), acc);
            for (; ow < OW; ow++) s += load<f32>(row + (<usize>(ow * SW) << 2)) * load<f32>(dr + (<usize>ow << 2));
          }
          const at = dwc + (<usize>(kh * KW + kw) << 2);
          store<f32>(at, load<f32>(at) + hsum(acc) + s);
        }
      }
    }
    if (db) store<f32>(db + (<usize>c << 2), bias);
  }
}
