// conv kernels: being written (see docs/design.md).
