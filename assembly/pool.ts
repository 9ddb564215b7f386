// pool kernels: being written (see docs/design.md).
