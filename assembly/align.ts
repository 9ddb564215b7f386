// Rounding helpers for scratch layouts: kernels carve their scratch into 64-byte aligned blocks (a
// cache line, and every v128 load aligned) from sizes rounded to their register blocks.

// @ts-ignore: decorator
@inline export function roundUp(n: i32, m: i32): i32 {
  return ((n + m - 1) / m) * m;
}

// @ts-ignore: decorator
@inline export function align64(bytes: usize): usize {
  return (bytes + 63) & ~(<usize>63);
}
