// batchnorm kernels: being written (see docs/design.md).
