"""AluAsm: the assembler and disassembler for AluVM bytecode."""
