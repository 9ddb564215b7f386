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
export { COMMAND_WORDS, WORDS } from './data/words.js';
export { arrayDataset, subset } from './data/dataset.js';
export type { Dataset, Splits, SkippedFile } from './data/dataset.js';
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
export { createModel, INPUT_SHAPES } from './models/zoo.js';
export { toSpiking } from './models/spiking.js';
export { serializeModel, deserializeModel, exportState, importState, ModelFileError, MODEL_FORMAT_VERSION } from './models/serialize.js';
export type { ModelMeta, ModelState } from './models/serialize.js';
export { balanceThresholds } from './models/balance.js';
export type { BalanceOptions } from './models/balance.js';
export { Network } from './models/network.js';
export { resolveConfig, DEFAULT_CONFIG, DEFAULT_STEPS, MODEL_NAMES, ENCODERS, SURROGATES, LIF_FORMS, RESET_MODES } from './models/config.js';
export type { Layer, ForwardContext } from './layers/layer.js';
export { Conv1d } from './layers/conv1d.js';
export { Conv2d } from './layers/conv2d.js';
export { BatchNorm, BatchNorm1d, BatchNorm2d } from './layers/batchnorm.js';
export { Linear } from './layers/linear.js';
export { ReLU } from './layers/relu.js';
export { Leaky } from './layers/leaky.js';
export type { LeakySettings } from './layers/leaky.js';
export { MaxPool1d, MaxPool2d } from './layers/maxpool.js';
export { AdaptiveAvgPool1d, AdaptiveAvgPool2d } from './layers/adaptive-avg-pool.js';
export { Dropout } from './layers/dropout.js';
export { Flatten } from './layers/flatten.js';
export { Encoder } from './layers/encoder.js';
export type { Model, ModelConfig, ModelName, EncoderName, Param, NamedTensor, ActivityReport, LayerActivity } from './models/types.js';
export { train, TrainingError } from './train/trainer.js';
export type { TrainOptions, TrainResult, EpochRecord, BestEpoch, RunSettings, TrainCheckpointMeta } from './train/trainer.js';
export { evaluate } from './train/evaluate.js';
export type { EvalOptions, EvalResult } from './train/evaluate.js';
export { OneCycle } from './train/schedule.js';
export type { OneCycleOptions, ScheduleValue } from './train/schedule.js';
export { Optimizer, Adam, Sgd, createOptimizer } from './train/optimizer.js';
export type { OptimizerName, OptimizerOptions, AdamOptions, OptimizerState } from './train/optimizer.js';
export { energyEstimate, argmaxRows, PICOJOULES_PER_MAC, PICOJOULES_PER_AC } from './train/metrics.js';
export type { Scores, EnergyEstimate } from './train/metrics.js';
export { MemoryCheckpointStore, CheckpointError, encodeCheckpoint, decodeCheckpoint, CHECKPOINT_FORMAT_VERSION } from './train/checkpoint.js';
export type { Checkpoint, CheckpointStore } from './train/checkpoint.js';
export { silentProgress } from './train/progress.js';
export type { ProgressBar, ProgressFactory } from './train/progress.js';
