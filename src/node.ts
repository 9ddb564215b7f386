// Node entry: everything in the core, plus what needs the file system. Importing it also lets V8
// compile relaxed SIMD (off by default in Node 20), so the faster fused multiply-add build is used.
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

export * from './index.js';
export { loadSpeechCommands, listSpeechCommands, builtinDataDir } from './data/speech-commands.js';
export type { SpeechCommandsOptions, SpeechCommandsSplits, CachedDataset, NoiseAugmentation } from './data/speech-commands.js';
export { CacheError } from './data/feature-cache.js';
export { synthNoise, mixAtSnr, addBackgroundNoise, loadBackgroundNoise } from './data/noise.js';
export type { NoiseColor } from './data/noise.js';
export { synthesizeSpeechCommands, DEFAULT_CLIPS_PER_WORD, DEFAULT_FLITE_SHARE } from './data/synth-node.js';
export type { SynthOptions, SynthSummary } from './data/synth-node.js';
export { saveModel, loadModel } from './models/file-node.js';
export { FileCheckpointStore } from './train/checkpoint-node.js';
export { writeEpochLog, readEpochLog, epochLogger } from './train/log-node.js';
export { terminalProgress } from './train/progress-node.js';
