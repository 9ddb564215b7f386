// Which path a kernel with a sparse alternative takes: the cost model's choice (the default), or one
// forced for every call, so that tests can run both paths on the same data and benchmarks can time
// both in the same run. The paths agree up to float rounding; only their speed differs.
const AUTO = 0;
const DENSE = 1;
const SPARSE = 2;
const BINARY = 3;

let policy = AUTO;

/**
 * 0: the cost model chooses (default); 1: always the dense path; 2: always the sparse path where the
 * geometry has one; 3: the lookup-table path of binary inputs wherever the input is binary (else the
 * cost model).
 */
export function setSparsePolicy(p: i32): void {
  assert(p == AUTO || p == DENSE || p == SPARSE || p == BINARY, 'setSparsePolicy: policy must be 0 (auto), 1 (dense), 2 (sparse) or 3 (binary)');
  policy = p;
}

/** The cost model's prediction `pays`, unless a path is forced. */
export function takeSparse(pays: bool): bool {
  return policy == AUTO || policy == BINARY ? pays : policy == SPARSE;
}

/** Whether a binary input takes the lookup-table path: the cost model's `pays`, unless a path is forced. */
export function takeBinary(pays: bool): bool {
  return policy == AUTO ? pays : policy == BINARY;
}
