"""Finding copies: the source index (documents, retrieval, file format) and alignment.

In: SourceArticle records and page texts. Out: Match records with passages.

Public API: ``MatchConfig`` (thresholds, ``is_copy``), ``SourceIndex`` (``add``, ``flush``,
``match``, ``get``, ``save``, ``SourceIndex.load``), ``align`` with its ``Alignment``, and
``IndexFileError``.
"""

from xpostcheck.match.align import Alignment, align
from xpostcheck.match.config import MatchConfig
from xpostcheck.match.evidence import judge
from xpostcheck.match.fileformat import IndexFileError
from xpostcheck.match.index import SourceIndex

__all__ = ["Alignment", "IndexFileError", "MatchConfig", "SourceIndex", "align", "judge"]
