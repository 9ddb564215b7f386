// snn-voice: the public API. Everything here runs unchanged in Node and in browsers.
export { Engine, createEngine, initEngine, useEngine, getEngine, relaxedSimdSupported } from './engine/engine.js';
export type { EngineOptions, SimdFlavor } from './engine/engine.js';
export { Tensor, sizeOf } from './engine/tensor.js';
export type { DType } from './engine/tensor.js';
export { ShapeError } from './engine/errors.js';
export { matmul } from './kernels/gemm.js';
export type { MatmulOptions } from './kernels/gemm.js';
export { linearForward, linearBackward } from './kernels/linear.js';
export {
  conv2dOutputShape, conv2dForward, conv2dBackward, conv2dBackwardInput, conv2dBackwardWeight,
  conv1dOutputShape, conv1dForward, conv1dBackward, samePadding,
} from './kernels/conv.js';
export type { Conv2dOptions, Conv1dOptions } from './kernels/conv.js';
export { batchNormForward, batchNormBackward } from './kernels/batchnorm.js';
export type { BatchNormState, BatchNormOptions } from './kernels/batchnorm.js';
export {
  maxPool2dOutputShape, maxPool2dForward, maxPool2dBackward, maxPool1dOutputShape, maxPool1dForward, maxPool1dBackward,
  adaptiveAvgPool2dForward, adaptiveAvgPool2dBackward, adaptiveAvgPool1dForward, adaptiveAvgPool1dBackward,
} from './kernels/pool.js';
export type { Pool2dOptions } from './kernels/pool.js';
export { dropoutForward, dropoutBackward } from './kernels/dropout.js';
export { lifForward, lifBackward, STUDY_NEURON, DEFAULT_NEURON } from './kernels/lif.js';
export type { LifParams, LifRecord, NeuronPreset } from './kernels/lif.js';
export { encodeRepeat, encodeRate, encodeLatency } from './kernels/encode.js';
export type { LatencyOptions } from './kernels/encode.js';
export { sumOverSteps, sumOverStepsBackward, crossEntropyForward, crossEntropyBackward, topKCorrect } from './kernels/loss.js';
export { adamStep, sgdStep } from './kernels/optim.js';
export type { AdamStepOptions, SgdStepOptions } from './kernels/optim.js';
export { WORDS } from './data/words.js';
export { lineChart, barChart } from './train/svg.js';
export type { LineChartOptions, LineSeries, BarChartOptions, BarSeries } from './train/svg.js';
export { buildReport, runLabel } from './train/report.js';
export type { RunResult, EpochSummary, ReportInput, ReportChart } from './train/report.js';
export { decodeWav, encodeWav, WavError } from './audio/wav.js';
export type { DecodedAudio, WavBitDepth } from './audio/wav.js';
export { resample } from './audio/resample.js';
export { extractFeatures, featuresFor, featureShape, featureKey, validateFeatureSettings, fitClip, WAVEFORM_4K, LOGMEL_60x134 } from './audio/features.js';
export type { FeatureSettings, WaveformSettings, LogMelSettings } from './audio/features.js';
export { logMelSpectrogram } from './audio/logmel.js';
