"""Built-in apipack rules: one package per language, one rule per language × interface.

Installed as ``apipack_rules``; registered through the same entry points as third-party plugins.
"""
