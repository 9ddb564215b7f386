// gemm kernels: being written (see docs/design.md).
