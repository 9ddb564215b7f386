// Node entry: everything in the core, plus what needs the file system. Importing it also turns on
// V8's relaxed-SIMD flag for the process (engine/relaxed-simd-node.ts), so the faster build is used, and
// lets createEngine({ threads }) / initEngine({ threads }) start worker threads (engine/threads-node.ts).
import './engine/relaxed-simd-node.js';
import './engine/threads-node.js';

export * from './index.js';
export { loadSpeechCommands, listSpeechCommands, builtinDataDir } from './data/speech-commands-node.js';
export type { SpeechCommandsOptions, SpeechCommandsSplits, FolderSplits, CachedDataset, NoiseAugmentation } from './data/speech-commands-node.js';
export { CacheError } from './data/feature-cache-node.js';
export { cacheLocation, userCacheDir, CACHE_ENV } from './data/cache-dir-node.js';
export { synthNoise, mixAtSnr, addBackgroundNoise } from './audio/noise.js';
export { loadBackgroundNoise } from './data/noise-node.js';
export type { NoiseColor } from './audio/noise.js';
export { synthesizeSpeechCommands, DEFAULT_CLIPS_PER_WORD } from './data/synth-node.js';
export { DEFAULT_FLITE_SHARE } from './data/speakers.js';
export type { SynthOptions, SynthSummary } from './data/synth-node.js';
export { saveModel, loadModel } from './models/file-node.js';
export { loadPretrained, pretrainedPath } from './models/pretrained-node.js';
export { FileCheckpointStore } from './train/checkpoint-node.js';
export { writeEpochLog, readEpochLog, epochLogger } from './train/log-node.js';
export { terminalProgress } from './util/progress-node.js';
