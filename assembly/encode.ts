// encode kernels: being written (see docs/design.md).
