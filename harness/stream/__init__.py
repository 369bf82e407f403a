"""Whole savevm streams: header, configuration, sections, RAM, footers, vmdesc."""
