"""Processor adapters: the only code that knows a processor's payloads (see ARCHITECTURE.md §2)."""
