// Kept apart from the kernels it drives, so that gemm.ts and conv.ts need not import each other.
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dScratchBytes } from './conv';
import { writeGeometry } from './conv-geometry';
import { gemm } from './gemm';

/**
 * Runs the GEMM micro-kernel and packing paths, and each convolution kernel (direct blocks of 4 and
 * of 1 channel, the weight gradient, im2col, and the sparse paths all-zero inputs take: conv-sparse.ts
 * below 16 output channels, conv-sparse-gemm.ts at 20, which linear layers share), on small
 * sizes so V8's optimising tier compiles them at load time instead of during the first real call.
 * Needs about 200 KB of scratch.
 */
export function warmUp(scratch: usize, bytes: usize): void {
  const n = 48;
  const a = scratch, b = a + n * n * 4, c = b + n * n * 4, desc = c + n * n * 4, s = desc + 64;
  assert(bytes >= (s - scratch) + 192 * 1024, 'warmUp: scratch too small');
  const sBytes = bytes - (s - scratch);
  memory.fill(a, 0, 3 * n * n * 4);
  for (let round = 0; round < 4; round++) {
    for (let t = 0; t < 4; t++) gemm(t & 1, t >> 1, n, n, n, a, n, b, n, c, n, round & 1, s, sBytes);
    // x [1, C, 6, 18] and dy in a, w and dw in b, y and dx in c, each within n*n floats. x is all
    // zeros (the sparse path) or all 0.747 (bytes 0x3f: the dense kernels).
    for (let k = 0; k < 8; k++) {
      const C = (k & 3) == 0 ? 1 : 4;
      const CO = (k & 3) == 0 ? 4 : (k & 3) == 1 ? 8 : (k & 3) == 2 ? 2 : 20;
      writeGeometry(desc, 1, C, 6, 18, CO, 3, 3, 1, 1, 1, 1);
      const need = conv2dScratchBytes(desc);
      assert(need <= sBytes, 'warmUp: scratch too small for the convolutions');
      memory.fill(a, k < 4 ? 0 : 0x3f, n * n * 4);
      conv2dForward(desc, a, b, 0, c, s, sBytes);
      conv2dBackwardInput(desc, b, a, c, s, sBytes);
      conv2dBackwardWeight(desc, a, a, b, 0, s, sBytes);
    }
  }
}
