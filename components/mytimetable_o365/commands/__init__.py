"""Operator commands (`mytimetable-o365 ...`): beside the component, using the same rules."""
