"""semantics/floats"""
