// The microphone, wired to a recognizer: getUserMedia -> AudioWorklet (the forwarder of worklet.ts,
// loaded from a Blob URL) -> recognizer.push on this thread, or a ScriptProcessorNode where AudioWorklet
// is missing or its module cannot load (a Content-Security-Policy without blob:). The recognizer can be
// a Recognizer or a RemoteRecognizer (connectRecognizer): anything with push(samples, sampleRate).
import type { HostInstance } from '../util/host-types.js';
import { FORWARDER_NAME, FORWARDER_SOURCE } from './worklet.js';

/** Where the audio goes: Recognizer and RemoteRecognizer both fit. */
export interface AudioSink {
  push(samples: Float32Array, sampleRate: number): unknown;
}

export interface ListenOptions {
  /** The context to run in; by default a new one, closed again by stopListening(). */
  audioContext?: HostInstance<'AudioContext'>;
  /** The input; by default the microphone (getUserMedia, mono, with the browser's echo cancellation,
   *  noise suppression and automatic gain off: they distort speech the model was not trained on), whose
   *  tracks stopListening() stops. */
  stream?: HostInstance<'MediaStream'>;
  /** Samples per chunk handed to the recognizer (a power of two from 256 to 16384). Default 2048. */
  chunkSize?: number;
  /** 'auto' (default) tries AudioWorklet first; 'script-processor' forces the fallback. */
  mode?: 'auto' | 'script-processor';
  /** Called with errors thrown by the recognizer's push (default: console.error). */
  onError?: (error: unknown) => void;
}

/** Stops the audio and releases what listen() opened; resolves once the context is closed. */
export type StopListening = () => Promise<void>;

export const MICROPHONE_CONSTRAINTS = {
  audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
} satisfies MediaStreamConstraints;

/** Starts feeding the microphone (or options.stream) to `sink`; returns the function that stops it. */
export async function listen(sink: AudioSink, options: ListenOptions = {}): Promise<StopListening> {
  const chunkSize = options.chunkSize ?? 2048;
  if (!Number.isInteger(Math.log2(chunkSize)) || chunkSize < 256 || chunkSize > 16384)
    throw new RangeError(`listen: chunkSize must be a power of two from 256 to 16384, got ${chunkSize}`);
  const ownContext = !options.audioContext;
  const context = options.audioContext ?? new AudioContext();
  const ownStream = !options.stream;
  let stream: MediaStream | undefined;
  const nodes: AudioNode[] = [];
  let worklet: AudioWorkletNode | null = null;
  const release = async () => {
    for (const node of nodes) node.disconnect();
    if (ownStream) stream?.getTracks().forEach((t) => t.stop());
    if (ownContext && context.state !== 'closed') await context.close();
  };
  try {
    stream = options.stream ?? (await navigator.mediaDevices.getUserMedia(MICROPHONE_CONSTRAINTS));
    const source = context.createMediaStreamSource(stream);
    // Nodes are only pulled when connected towards the destination; a muted gain keeps the room silent.
    const mute = context.createGain();
    mute.gain.value = 0;
    mute.connect(context.destination);
    nodes.push(source, mute);
    const deliver = (samples: Float32Array) => {
      try {
        sink.push(samples, context.sampleRate);
      } catch (e) {
        (options.onError ?? console.error)(e);
      }
    };
    worklet = options.mode === 'script-processor' ? null : await forwarder(context, chunkSize);
    if (worklet) {
      worklet.port.onmessage = (e: MessageEvent<Float32Array>) => deliver(e.data);
      source.connect(worklet).connect(mute);
      nodes.push(worklet);
    } else {
      const processor = context.createScriptProcessor(chunkSize, 1, 1);
      // The event's buffer is reused by the browser: the sink gets a copy.
      processor.onaudioprocess = (e) => deliver(e.inputBuffer.getChannelData(0).slice());
      source.connect(processor).connect(mute);
      nodes.push(processor);
    }
    if (context.state === 'suspended') await context.resume();
  } catch (e) {
    await release();
    throw e;
  }
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    worklet?.port.postMessage('stop');
    await release();
  };
}

/** The forwarder node, or null where AudioWorklet is unavailable or its module does not load. */
async function forwarder(context: AudioContext, chunkSize: number): Promise<AudioWorkletNode | null> {
  if (!context.audioWorklet || typeof AudioWorkletNode === 'undefined') return null;
  const url = URL.createObjectURL(new Blob([FORWARDER_SOURCE], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(url);
  } catch {
    return null;
  } finally {
    URL.revokeObjectURL(url);
  }
  return new AudioWorkletNode(context, FORWARDER_NAME, { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: { chunkSize } });
}
