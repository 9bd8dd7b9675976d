"""Output formats, one module per format, from a Report; `formats.FORMATS` names them all.

In: Report and RenderContext. Out: text."""
