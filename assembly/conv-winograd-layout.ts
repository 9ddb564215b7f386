// The sizes of Winograd's F(4, 3) kernels (conv-winograd.ts) from the correlation's sizes alone: R
// input rows (channels times kernel rows) to CO channels of OH x OW outputs, N samples. Its chunks,
// scratch layout and cost, shared with conv-fold.ts, which sizes a folded correlation before it
// exists.
import { align64, roundUp } from './align';
import { gemmScratchBytes } from './gemm';

export const POINTS: usize = 6;
export const TILE = 4;
// Transformed input and output of a chunk of whole samples (the GEMMs' B and C) stay under this.
const CHUNK_BYTES: usize = 2 << 20;

// A chunk holds whole samples, so one sample's transformed input and output must fit in scratch; a
// longer one (a 1-d row of tens of thousands of positions at 64 channels) takes im2col, whose pieces are bounded.
const MAX_SAMPLE_BYTES: usize = 8 << 20;

/** Whether R input rows to CO channels of OH x OW outputs stay within one sample's bound (conv-fold.ts
 *  asks this of the rows it folds into a 3-tap correlation). */
export function rowsFit(R: i32, CO: i32, OH: i32, OW: i32): bool {
  return sampleBytes(R, CO, OH, OW) <= MAX_SAMPLE_BYTES;
}

// Tiles per output row, rounded up to whole vectors of four.
// @ts-ignore: decorator
@inline export function tilesPerRow(OW: i32): i32 {
  return roundUp((OW + TILE - 1) / TILE, 4);
}

// One sample's transformed input [6][R][cols] and output [6][CO][cols].
function sampleBytes(R: i32, CO: i32, OH: i32, OW: i32): usize {
  return <usize>POINTS * <usize>(R + CO) * <usize>OH * <usize>tilesPerRow(OW) * 4;
}

// Samples per chunk: their transformed input and output within CHUNK_BYTES.
export function samplesPerChunk(N: i32, R: i32, CO: i32, OH: i32, OW: i32): i32 {
  return <i32>max<usize>(1, min<usize>(<usize>N, CHUNK_BYTES / sampleBytes(R, CO, OH, OW)));
}

// Scratch, in order: the transformed weights (or their gradient) [6][CO][R]; a chunk's transformed
// input (or its gradient) [6][R][cols]; its transformed output (or dy) [6][CO][cols]; one padded row;
// the GEMM's scratch.
// @ts-ignore: decorator
@inline export function inputsOffset(R: i32, CO: i32): usize {
  return align64(<usize>POINTS * CO * R * 4);
}

// @ts-ignore: decorator
@inline export function outputsOffset(R: i32, CO: i32, cols: i32): usize {
  return inputsOffset(R, CO) + align64(<usize>POINTS * R * cols * 4);
}

// @ts-ignore: decorator
@inline export function rowOffset(R: i32, CO: i32, cols: i32): usize {
  return outputsOffset(R, CO, cols) + align64(<usize>POINTS * CO * cols * 4);
}

// @ts-ignore: decorator
@inline export function gemmOffset(R: i32, CO: i32, cols: i32, OW: i32): usize {
  return rowOffset(R, CO, cols) + align64(<usize>(TILE * tilesPerRow(OW) + 4) * 4);
}

/** winogradBytes of N samples of R input rows to CO channels of OH x OW outputs. */
export function rowsBytes(N: i32, R: i32, CO: i32, OH: i32, OW: i32): usize {
  const cols = samplesPerChunk(N, R, CO, OH, OW) * OH * tilesPerRow(OW);
  return gemmOffset(R, CO, cols, OW) + gemmScratchBytes(max(CO, R), max(cols, R), max(max(R, CO), cols));
}

/** winogradCost of N samples of R input rows to CO channels of OH x OW outputs. */
export function rowsCost(N: i32, R: i32, CO: i32, OH: i32, OW: i32): f64 {
  const tiles = <f64>N * OH * tilesPerRow(OW);
  return tiles * POINTS * (<f64>R * CO + 10 * <f64>(R + CO));
}
