"""From a plan document to tasks.

Readers, the deadline grammar, resolving the responsible, expansion, the import review.
"""
