"""The knowledge base: articles (synced) imported from files or pasted text, cut into chunks (local, derived),
found again offline by BM25 and, when a provider can embed, by vectors too.

``importers`` reads files into article drafts, ``chunking`` cuts text into passages, ``chunks`` keeps the chunks
of every article in step with it, ``retrieval`` answers a question with cited passages, ``embedding`` stores
provider vectors of chunks, and ``hybrid`` fuses both rankings.
"""
