"""Shared helpers of the RLHF/DPO course: one concern a module (see README)."""
