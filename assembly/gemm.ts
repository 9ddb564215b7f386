// General matrix multiply, C[M,N] = op(A)[M,K] · op(B)[K,N] (+ C), GotoBLAS-style: op(A) and op(B)
// are copied block by block into packed panels (which also absorbs the transposes), and a
// register-blocked micro-kernel multiplies one MR-row panel of A by one NR-column panel of B.
import { align64, roundUp } from './align';
import { madd } from './simd';

// 4x8 keeps 8 accumulators + 2 B vectors + 1 broadcast live: within the 15 xmm registers V8's
// optimising tier allocates without spilling, and 8 independent FMA chains cover the FMA latency.
const MR = 4;
const NR = 8;
// A KC x NR panel of B (8 KB) stays in L1 while the MC x KC block of A (96 KB) streams from L2; the
// KC x NC panel of B (256 KB) fits in L2 beside it. (Measured here: NC = 2048, a panel in L3, ran
// 10-20% slower on squares and skinny shapes, and the 16x5000x5000 linear layer 20% slower.)
// Exported: a caller that splits a long reduction (conv-im2col.ts) cuts it at multiples of KC so the sums
// round as in one call.
export const KC = 256;
const MC = 96;
const NC = 256;

/** Scratch bytes `gemm` needs for these sizes (packed A block, packed B panel, one edge tile). */
export function gemmScratchBytes(M: i32, N: i32, K: i32): usize {
  const kc = <usize>min(K, KC);
  const mc = <usize>min(roundUp(M, MR), MC);
  const nc = <usize>min(roundUp(N, NR), NC);
  return align64(mc * kc * 4) + align64(kc * nc * 4) + MR * NR * 4;
}

/**
 * C = op(A)·op(B), or C += op(A)·op(B) when `accumulate` is non-zero. op(A)[i,k] is a[i*lda+k], or
 * a[k*lda+i] when transA; op(B)[k,j] is b[k*ldb+j], or b[j*ldb+k] when transB; C[i,j] is c[i*ldc+j].
 */
export function gemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  accumulate: i32, scratch: usize, scratchBytes: usize,
): void {
  assert(M > 0 && N > 0 && K > 0, 'gemm: M, N and K must be positive');
  assert(lda >= (transA ? M : K), 'gemm: lda is smaller than a row of A');
  assert(ldb >= (transB ? K : N), 'gemm: ldb is smaller than a row of B');
  assert(ldc >= N, 'gemm: ldc is smaller than a row of C');
  assert(scratchBytes >= gemmScratchBytes(M, N, K), 'gemm: scratch is smaller than gemmScratchBytes(M, N, K)');
  const kcMax = <usize>min(K, KC);
  const packedA = scratch;
  const packedB = packedA + align64(<usize>min(roundUp(M, MR), MC) * kcMax * 4);
  const tile = packedB + align64(kcMax * <usize>min(roundUp(N, NR), NC) * 4);
  const ldcBytes = <usize>ldc << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const beta = pc > 0 || accumulate != 0;
      packB(transB, b, ldb, pc, jc, kc, nc, packedB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(transA, a, lda, ic, pc, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packedB + <usize>jr * kc * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = packedA + <usize>ir * kc * 4;
            const cp = c + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR && nr == NR) {
              microKernel(kc, pa, pb, cp, ldcBytes, beta);
            } else {
              microKernel(kc, pa, pb, tile, NR * 4, false);
              storeEdge(tile, cp, ldcBytes, mr, nr, beta);
            }
          }
        }
      }
    }
  }
}

// C tile (MR x NR) = packed A panel (kc x MR) · packed B panel (kc x NR), added to C when beta.
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, beta: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  if (beta) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
    c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

// Copies the valid mr x nr corner of a full tile computed at the ragged edge of C.
function storeEdge(tile: usize, c: usize, ldc: usize, mr: i32, nr: i32, beta: bool): void {
  for (let i = 0; i < mr; i++) {
    const src = tile + <usize>i * NR * 4;
    const dst = c + <usize>i * ldc;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(src + o);
      store<f32>(dst + o, beta ? v + load<f32>(dst + o) : v);
    }
  }
}

// Packs op(A)[i0.., p0..] (mc x kc) as MR-row panels, each kc x MR, k-major; missing rows are zeros.
function packA(trans: i32, a: usize, lda: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  const ld = <usize>lda;
  for (let s = 0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    if (trans) {
      // op(A)[i,k] = a[k*lda+i]: the MR values of one k are adjacent.
      let src = a + ((<usize>p0 * ld + i0 + s) << 2);
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          src += ld << 2;
          dst += MR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>r << 2)) : 0);
          src += ld << 2;
          dst += MR * 4;
        }
      }
    } else {
      // op(A)[i,k] = a[i*lda+k]: MR row streams, four k at a time transposed into place.
      const r0 = a + ((<usize>(i0 + s) * ld + p0) << 2);
      if (rows == MR) {
        const r1 = r0 + (ld << 2), r2 = r1 + (ld << 2), r3 = r2 + (ld << 2);
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o), x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
          dst += 4 * MR * 4;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          store<f32>(dst, load<f32>(r0 + o));
          store<f32>(dst, load<f32>(r1 + o), 4);
          store<f32>(dst, load<f32>(r2 + o), 8);
          store<f32>(dst, load<f32>(r3 + o), 12);
          dst += MR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++)
            store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(r0 + ((<usize>r * ld + k) << 2)) : 0);
          dst += MR * 4;
        }
      }
    }
  }
}

// Packs op(B)[p0.., j0..] (kc x nc) as NR-column panels, each kc x NR, k-major; missing columns are zeros.
function packB(trans: i32, b: usize, ldb: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  const ld = <usize>ldb;
  for (let t = 0; t < nc; t += NR) {
    const cols = min(NR, nc - t);
    if (!trans) {
      // op(B)[k,j] = b[k*ldb+j]: the NR values of one k are adjacent.
      let src = b + ((<usize>p0 * ld + j0 + t) << 2);
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += ld << 2;
          dst += NR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let q = 0; q < NR; q++) store<f32>(dst + (<usize>q << 2), q < cols ? load<f32>(src + (<usize>q << 2)) : 0);
          src += ld << 2;
          dst += NR * 4;
        }
      }
    } else {
      // op(B)[k,j] = b[j*ldb+k]: NR row streams, four k at a time transposed into place.
      const base = b + ((<usize>(j0 + t) * ld + p0) << 2);
      if (cols == NR) {
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          for (let h: usize = 0; h < 2; h++) {
            const r0 = base + ((h * 4 * ld) << 2) + o;
            const r1 = r0 + (ld << 2), r2 = r1 + (ld << 2), r3 = r2 + (ld << 2);
            const x0 = v128.load(r0), x1 = v128.load(r1), x2 = v128.load(r2), x3 = v128.load(r3);
            const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
            const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
            const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
            const d = dst + (h << 4);
            v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), NR * 4);
            v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 2 * NR * 4);
            v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 3 * NR * 4);
          }
          dst += 4 * NR * 4;
        }
        for (; k < kc; k++) {
          for (let q = 0; q < NR; q++) store<f32>(dst + (<usize>q << 2), load<f32>(base + ((<usize>q * ld + k) << 2)));
          dst += NR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let q = 0; q < NR; q++)
            store<f32>(dst + (<usize>q << 2), q < cols ? load<f32>(base + ((<usize>q * ld + k) << 2)) : 0);
          dst += NR * 4;
        }
      }
    }
  }
}
