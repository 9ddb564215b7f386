// Which path a kernel with a sparse alternative takes: the cost model's choice (the default), or one
// forced for every call, so that tests can run both paths on the same data and benchmarks can time
// both in the same run. The paths agree up to float rounding; only their speed differs.
const AUTO = 0;
const DENSE = 1;
const SPARSE = 2;
const BINARY = 3;
const PLAIN = 4;

let policy = AUTO;

/**
 * 0: the cost model chooses (default); 1: always the dense path; 2: always the sparse path where the
 * geometry has one; 3: the lookup-table path of binary inputs wherever the input is binary (else the
 * cost model); 4: the plain dense path, im2col or direct, never Winograd's (conv-winograd.ts).
 */
export function setSparsePolicy(p: i32): void {
  assert(p >= AUTO && p <= PLAIN, 'setSparsePolicy: policy must be 0 (auto), 1 (dense), 2 (sparse), 3 (binary) or 4 (plain dense)');
  policy = p;
}

/** The cost model's prediction `pays`, unless a path is forced. */
export function takeSparse(pays: bool): bool {
  return policy == AUTO || policy == BINARY ? pays : policy == SPARSE;
}

/** Whether a dense correlation takes Winograd's path: the cost model's `pays`, unless plain is forced. */
export function takeWinograd(pays: bool): bool {
  return policy == PLAIN ? false : pays;
}

/** Whether a binary input takes the lookup-table path: the cost model's `pays`, unless a path is forced. */
export function takeBinary(pays: bool): bool {
  return policy == AUTO ? pays : policy == BINARY;
}
