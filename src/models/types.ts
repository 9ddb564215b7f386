// The contract between models and everything that drives them (trainer, evaluation, CLI, files).
// The trainer sees only this interface, never a model's layers.
import type { Tensor } from '../engine/tensor.js';
import type { LayerActivity, NamedTensor, Param } from '../layers/layer.js';
import type { SettingsOf } from '../util/schema.js';
import type { MODEL_SETTINGS, ModelName } from './settings.js';

export type { ModelName } from './settings.js';

/** Everything createModel needs to rebuild a model; saved in every model file. Declared in MODEL_SETTINGS. */
export interface ModelConfig extends SettingsOf<typeof MODEL_SETTINGS> {}

export interface ActivityReport {
  samples: number;
  layers: LayerActivity[];
  /** Sums over layers, per sample. */
  denseMacs: number;
  macs: number;
  acs: number;
}

export interface Model {
  readonly name: ModelName;
  readonly spiking: boolean;
  readonly steps: number;
  readonly classes: number;
  /** Per sample, e.g. [1, 60, 134] or [1, 4000]. */
  readonly inputShape: readonly number[];
  readonly config: ModelConfig;
  /** x: [B, ...inputShape]. Returns [B, classes] logits (summed over steps); owned by the model. */
  forward(x: Tensor): Tensor;
  /** dlogits: [B, classes]. Overwrites every parameter's grad. */
  backward(dlogits: Tensor): void;
  train(mode?: boolean): void;
  eval(): void;
  readonly training: boolean;
  parameters(): Param[];
  /** Non-trainable state saved with the model (batch-norm running mean and variance). */
  buffers(): NamedTensor[];
  parameterCount(): number;
  /**
   * Count spikes and synaptic operations in forward (off by default: it costs time on the inference
   * path; evaluate() turns it on for its run).
   */
  countActivity: boolean;
  resetActivity(): void;
  activity(): ActivityReport;
  dispose(): void;
}
