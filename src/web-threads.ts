// 'snn-voice/web-threads': imported once in a browser page, it lets createEngine({ threads }) and
// initEngine({ threads }) run Web Workers over one shared memory (docs/threads.md). The page must be
// cross-origin isolated; where it is not, the engine runs one thread and says why on the console.
import './engine/threads-web.js';

export { webThreadsUnavailable } from './engine/threads-web.js';
