"""Workflows as data, events fired on rows by one shared Machine, the audit chain."""
