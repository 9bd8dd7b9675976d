"""The publisher's articles, read from every input format.

In: file paths and URLs. Out: SourceArticle records and the inputs skipped, with reasons."""
