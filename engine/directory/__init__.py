"""Reference data the plans refer to.

Persons and their deputies, schools with their risk flags.
"""
