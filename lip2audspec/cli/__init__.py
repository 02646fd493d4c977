"""Thin command-line entry points (parse, load config, call library functions)."""
