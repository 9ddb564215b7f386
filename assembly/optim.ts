// optim kernels: being written (see docs/design.md).
