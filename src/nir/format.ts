// The NIR file layout shared by the writer and the reader (docs/nir.md): an HDF5 file with a root
// `version` and a `node` group holding one NIRGraph: `type`, `nodes` (one group per node: its `type`
// and parameter arrays) and `edges` ([n, 2] names, source then target). Several edges into one node
// are summed, which is how a residual join is written.
import type { H5Array, H5Group, H5Leaf } from './hdf5.js';

/** The NIR version written in the file's root (the spec's 1.0 node set). */
export const NIR_VERSION = '1.0.0';

/** Keys of the graph's metadata group that this package writes and reads. */
export const META = {
  /** "snn-voice": the file came from exportNir (then the keys below are present). */
  producer: 'producer',
  /** JSON: the model settings (models/types.ts ModelConfig), class names and feature settings. */
  model: 'snn_voice_model',
  /** The time steps T the graph is run for, with dt = 1 per step. */
  steps: 'steps',
  /** "repeat": the input is the same at every step (not an encoding the graph computes). */
  encoder: 'encoder',
  /** "sum": the logits are the Output node's values summed over the T steps. */
  readout: 'readout',
  dt: 'dt',
} as const;

export class NirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NirError';
  }
}

export const f32 = (values: ArrayLike<number>, shape: number[]): H5Array => ({ data: Float32Array.from(values), shape });
export const f64 = (values: ArrayLike<number>, shape: number[]): H5Array => ({ data: Float64Array.from(values), shape });
export const ints = (values: readonly number[]): H5Array => ({ data: Int32Array.from(values), shape: [values.length] });
export const int = (value: number): H5Array => ({ data: Int32Array.of(value), shape: [] });
export const num = (value: number): H5Array => ({ data: Float64Array.of(value), shape: [] });

export const group = (entries: Record<string, H5Leaf | H5Group>): H5Group => new Map(Object.entries(entries));
