// The kernel module: every export is a plain function over linear-memory offsets and explicit sizes.
// Memory is owned and allocated by the TypeScript engine (src/engine); kernels never allocate.
export * from './activation';

export function heapBase(): usize {
  return __heap_base;
}
