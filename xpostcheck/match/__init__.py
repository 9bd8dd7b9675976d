"""Finding copies: the source index (documents, retrieval, file format) and alignment.

In: SourceArticle records and page texts. Out: Match records with passages."""
