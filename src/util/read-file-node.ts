// Reading a file the user named, bounded: only regular files (a FIFO would block forever, /dev/zero
// never ends), and no more than the caller's limit, checked before anything is read.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

export async function readFileBounded(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  let handle;
  try {
    // Non-blocking, so opening a FIFO with no writer returns at once instead of waiting for one.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new Error(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${path}: is not a regular file, so it cannot be ${what}`);
    if (info.size > maxBytes)
      throw new Error(`${path}: is ${(info.size / 2 ** 20).toFixed(1)} MiB; ${what} may be at most ${(maxBytes / 2 ** 20).toFixed(0)} MiB`);
    const bytes = new Uint8Array(info.size);
    let done = 0;
    while (done < info.size) {
      const { bytesRead } = await handle.read(bytes, done, info.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === info.size ? bytes : bytes.subarray(0, done);
  } finally {
    await handle.close();
  }
}
