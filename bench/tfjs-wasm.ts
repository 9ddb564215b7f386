// tfjs-backend-wasm (XNNPACK) as a comparison contender, one thread, its binary read from node_modules.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Tf = typeof import('@tensorflow/tfjs-core');
let loading: Promise<Tf | null> | null = null;

/** The tfjs core with the WASM backend active, or null (with a note on stderr) when it cannot load. */
export function tfjsWasm(): Promise<Tf | null> {
  loading ??= (async () => {
    try {
      const tf = await import('@tensorflow/tfjs-core');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
      wasm.setWasmPaths(join(dir, '/'));
      wasm.setThreadsCount(1);
      await tf.setBackend('wasm');
      await tf.ready();
      return tf;
    } catch (err) {
      console.error(`tfjs-backend-wasm unavailable: ${err instanceof Error ? err.message : err}`);
      return null;
    }
  })();
  return loading;
}
