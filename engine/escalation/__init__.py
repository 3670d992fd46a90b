"""Reminders and escalation.

Ladders, when each step falls due, the sweep, the outbox, digests, simulation.
"""
