// dropout kernels: being written (see docs/design.md).
