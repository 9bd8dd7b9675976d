"""Output formats, one class per format, from a Report.

In: Report and RenderContext. Out: text."""
