"""The MyTimetableO365Integration component and the reading of a stack's config."""
