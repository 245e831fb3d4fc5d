"""LLVM JIT tier of the AluVM machine: :func:`jit.engine.jit_runner` runs a library with results
identical to the interpreter (see ``lift`` -> ``codegen`` -> ``engine``)."""
