"""semantics/curves"""
