// 2-D convolution (cross-correlation, as PyTorch) over [N, C, H, W] with weights [CO, C, KH, KW];
// conv1d is this with H = KH = 1. Three algorithms, chosen per call:
// - im2col + GEMM (conv-im2col.ts): any geometry; pays when the correlation has many output channels.
// - direct (conv-direct.ts): for few output channels at stride 1, register-blocked loops over a
//   zero-padded copy of each sample; dx at stride 1 is itself such a correlation.
// - sparse (conv-sparse.ts): in the direct geometry, when most inputs are zero (spikes), forward and
//   dw visit only the non-zero inputs.
// - sparse GEMM (conv-sparse-gemm.ts): likewise in the im2col geometry.
// - binary (conv-binary.ts): forward and dw of inputs that are all 0 or 1, any geometry, through tables
//   of weight sums (and bins of dy).
// - Winograd (conv-winograd.ts): instead of im2col for 3 taps along the width at stride 1, half the
//   multiply-adds, all three passes; im2col after all when an operand holds a NaN or an infinity.
// - folded Winograd (conv-fold.ts): a 1-d correlation past 3 taps or at a stride, its taps split by
//   phase and in groups of three, as rows of a 3-tap correlation for Winograd's kernel.
// A cost model picks the sparse and binary paths per call from the count of non-zero inputs
// (sparse-policy.ts can force any path: the results agree to float rounding).
// Every export takes the offset of a geometry descriptor (conv-geometry.ts) and buffer offsets.
import { biasGradient, biasGradientBytes, checkGeometry, ConvGeometry, geometryAt, outHeight, outWidth } from './conv-geometry';
import {
  directBackwardInput, directBackwardInputBytes, directForward, directForwardBytes, directWeightGrad, directWeightGradBytes,
} from './conv-direct';
import { binaryBytes, binaryForward, binaryForwardCost, binaryWeightGrad, binaryWeightGradCost, spikeCount } from './conv-binary';
import { im2colBackwardInput, im2colBackwardWeight, im2colBytes, im2colForward, pointwise } from './conv-im2col';
import {
  directForwardCost, nonZeros, sparseForward, sparseForwardBytes, sparseForwardCost, sparseWeightGrad, sparseWeightGradBytes, sparseWeightGradCost,
} from './conv-sparse';
import {
  im2colCost, sparseGemmForward, sparseGemmForwardBytes, sparseGemmForwardCost, sparseGemmWeightGrad, sparseGemmWeightGradBytes, sparseGemmWeightGradCost,
} from './conv-sparse-gemm';
import { takeBinary, takeSparse, takeWinograd } from './sparse-policy';
import { firstNonFinite } from './elementwise';
import { foldBackwardInput, foldBackwardWeight, foldBytes, foldCost, foldFits, foldForward } from './conv-fold';
import {
  winogradBackwardInput, winogradBackwardWeight, winogradBytes, winogradCost, winogradFits, winogradForward,
} from './conv-winograd';

// Correlations with at most this many output channels run direct (when the geometry allows).
const DIRECT_MAX_CHANNELS = 16;

// The direct kernels handle stride 1 with padding below the kernel size (so dx's padding KH-1-PH >= 0).
function directFits(outChannels: i32, geom: ConvGeometry): bool {
  return outChannels <= DIRECT_MAX_CHANNELS && geom.SH == 1 && geom.SW == 1 && geom.PH < geom.KH && geom.PW < geom.KW;
}

// dx as a direct correlation sweeps the kernel over dy padded to the size of x; when dy is much
// smaller than x (a kernel nearly as large as the input), most of those taps would multiply padding.
function directInputGrad(geom: ConvGeometry): bool {
  return directFits(geom.C, geom) && 2 * outHeight(geom) * outWidth(geom) >= geom.H * geom.W;
}

// The dense path of a correlation the direct kernels do not take: Winograd where it fits and is
// predicted faster than im2col, else im2col. The prediction alone sizes the scratch: a policy can
// only turn Winograd off.
function winogradPredicted(geom: ConvGeometry): bool {
  return winogradFits(geom) && winogradCost(geom) < MARGIN * im2colCost(geom);
}

function winogradPays(geom: ConvGeometry): bool {
  return takeWinograd(winogradPredicted(geom));
}

function foldPredicted(geom: ConvGeometry): bool {
  return foldFits(geom) && foldCost(geom) < MARGIN * im2colCost(geom);
}

function foldPays(geom: ConvGeometry): bool {
  return takeWinograd(foldPredicted(geom));
}

// A pointwise correlation's GEMMs run on x, y and dy in place (conv-im2col.ts), without the lowering
// that im2colCost's unit includes: about half the time per multiply-add. Fitted on BC-ResNet-3's SNN
// layers (80 rows, 24-60 channels, 101-2020 positions), each path forced by setSparsePolicy; the
// binary paths' costs (conv-binary.ts) were refitted against this price since.
const POINTWISE_COST: f64 = 0.55;

function denseCost(geom: ConvGeometry, direct: bool): f64 {
  if (direct) return directForwardCost(geom);
  if (pointwise(geom)) return POINTWISE_COST * im2colCost(geom);
  if (winogradPays(geom)) return winogradCost(geom);
  return foldPays(geom) ? foldCost(geom) : im2colCost(geom);
}

/** Scratch bytes the conv2d kernels (forward and both backwards) need for this geometry. */
export function conv2dScratchBytes(geometry: usize): usize {
  const geom = geometryAt(geometry);
  const directOut = directFits(geom.CO, geom);
  const directIn = directInputGrad(geom);
  // im2col always: the weight gradient of an input that is not all finite takes it (see framedTaps).
  let bytes = im2colBytes(geom);
  if (directOut) bytes = max(bytes, max(max(directForwardBytes(geom), directWeightGradBytes(geom)), max(sparseForwardBytes(geom), sparseWeightGradBytes(geom))));
  if (directIn) bytes = max(bytes, directBackwardInputBytes(geom));
  if (!directOut) bytes = max(bytes, max(sparseGemmForwardBytes(geom), sparseGemmWeightGradBytes(geom)));
  if ((!directOut || !directIn) && winogradPredicted(geom)) bytes = max(bytes, winogradBytes(geom));
  if ((!directOut || !directIn) && foldPredicted(geom)) bytes = max(bytes, foldBytes(geom));
  return max(max(bytes, binaryBytes(geom)), biasGradientBytes(geom.CO));
}

function checked(name: string, geometry: usize, scratchBytes: usize): ConvGeometry {
  const geom = geometryAt(geometry);
  checkGeometry(name, geom);
  assert(scratchBytes >= conv2dScratchBytes(geometry), name + ': scratch too small');
  return geom;
}

// The paths a call can take, chosen by the cost model from one pass over x (is it binary, and how many
// of it are non-zero), unless sparse-policy.ts forces one: tables only for binary x, and a path other
// than the dense one only when predicted at least 10% faster than the cheaper of the others.
const DENSE_PATH = 0;
const SPARSE_PATH = 1;
const BINARY_PATH = 2;
const IM2COL_PATH = 3;
const MARGIN: f64 = 0.9;

function choose(binary: bool, dense: f64, sparse: f64, tables: f64): i32 {
  if (binary && takeBinary(tables < MARGIN * min(dense, sparse))) return BINARY_PATH;
  return takeSparse(sparse < MARGIN * dense) ? SPARSE_PATH : DENSE_PATH;
}

// The count of x's non-zeros, negated minus one when x is not binary (spikeCount's pass, then
// nonZeros's only then).
function survey(geom: ConvGeometry, x: usize): i64 {
  const n = geom.N * geom.C * geom.H * geom.W;
  const spikes = spikeCount(x, n);
  return spikes >= 0 ? spikes : -1 - nonZeros(x, n);
}

function forwardPath(geom: ConvGeometry, x: usize, direct: bool): i32 {
  const s = survey(geom, x), count = s >= 0 ? s : -1 - s;
  const dense = denseCost(geom, direct);
  const sparse = direct ? sparseForwardCost(geom, count) : sparseGemmForwardCost(geom, count);
  return choose(s >= 0, dense, sparse, binaryForwardCost(geom));
}

function weightGradPath(geom: ConvGeometry, x: usize, direct: bool): i32 {
  const s = survey(geom, x), count = s >= 0 ? s : -1 - s;
  // The direct weight gradient costs as the direct forward, the Winograd one as its forward.
  const dense = denseCost(geom, direct);
  const sparse = direct ? sparseWeightGradCost(geom, count) : sparseGemmWeightGradCost(geom, count);
  const path = choose(s >= 0, dense, sparse, binaryWeightGradCost(geom));
  // A binary x (s >= 0) is finite.
  return s < 0 && framedTaps(path, direct) && firstNonFinite(x, geom.N * geom.C * geom.H * geom.W) >= 0 ? IM2COL_PATH : path;
}

// The weight gradients of the direct geometry (conv-direct.ts's dense one, conv-sparse.ts's sparse one)
// multiply inputs by zeros framing dy (past OW, where a vector of outputs runs over; past the border,
// for taps that reach no output), so an infinite input would make NaN of taps the exact sum never
// gives it. Such an input takes im2col's path, whose lowering clips every tap.
function framedTaps(path: i32, direct: bool): bool {
  return direct && path != BINARY_PATH;
}

/** y = conv(x, w) + b; b may be 0 (no bias). Scratch: conv2dScratchBytes of the same geometry. */
export function conv2dForward(geometry: usize, x: usize, w: usize, b: usize, y: usize, scratch: usize, scratchBytes: usize): void {
  const geom = checked('conv2dForward', geometry, scratchBytes);
  const direct = directFits(geom.CO, geom);
  const path = forwardPath(geom, x, direct);
  if (path == BINARY_PATH) binaryForward(geom, x, w, b, y, scratch);
  else if (direct) {
    if (path == SPARSE_PATH) sparseForward(geom, x, w, b, y, scratch);
    else directForward(geom, x, w, b, y, scratch);
  } else if (path == SPARSE_PATH) sparseGemmForward(geom, x, w, b, y, scratch);
  else if (!(winogradPays(geom) && winogradForward(geom, x, w, b, y, scratch, scratchBytes))
    && !(foldPays(geom) && foldForward(geom, x, w, b, y, scratch, scratchBytes))) im2colForward(geom, x, w, b, y, scratch, scratchBytes);
}

/** dx = the gradient of sum(dy * conv(x, w)) with respect to x (overwritten). */
export function conv2dBackwardInput(geometry: usize, w: usize, dy: usize, dx: usize, scratch: usize, scratchBytes: usize): void {
  const geom = checked('conv2dBackwardInput', geometry, scratchBytes);
  if (directInputGrad(geom)) directBackwardInput(geom, w, dy, dx, scratch);
  else if (!(winogradPays(geom) && winogradBackwardInput(geom, w, dy, dx, scratch, scratchBytes))
    && !(foldPays(geom) && foldBackwardInput(geom, w, dy, dx, scratch, scratchBytes))) im2colBackwardInput(geom, w, dy, dx, scratch, scratchBytes);
}

/** dw (and db unless 0) = the gradients of sum(dy * (conv(x, w) + b)) (overwritten). */
export function conv2dBackwardWeight(geometry: usize, x: usize, dy: usize, dw: usize, db: usize, scratch: usize, scratchBytes: usize): void {
  const geom = checked('conv2dBackwardWeight', geometry, scratchBytes);
  const direct = directFits(geom.CO, geom);
  const path = weightGradPath(geom, x, direct);
  // The direct kernel sums db while it copies dy, so dy is read once; the others leave db to biasGradient.
  if (direct && path == DENSE_PATH) {
    directWeightGrad(geom, x, dy, dw, db, scratch);
    return;
  }
  if (db != 0) biasGradient(dy, db, geom.N, geom.CO, outHeight(geom) * outWidth(geom), scratch);
  if (path == BINARY_PATH) binaryWeightGrad(geom, x, dy, dw, scratch);
  else if (path == IM2COL_PATH) im2colBackwardWeight(geom, x, dy, dw, scratch, scratchBytes);
  else if (direct) sparseWeightGrad(geom, x, dy, dw, scratch);
  else if (path == SPARSE_PATH) sparseGemmWeightGrad(geom, x, dy, dw, scratch);
  else if (!(winogradPays(geom) && winogradBackwardWeight(geom, x, dy, dw, scratch, scratchBytes))
    && !(foldPays(geom) && foldBackwardWeight(geom, x, dy, dw, scratch, scratchBytes))) im2colBackwardWeight(geom, x, dy, dw, scratch, scratchBytes);
}
