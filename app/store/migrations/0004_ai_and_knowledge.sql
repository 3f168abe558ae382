-- Parley schema v4: what AI replies need.
--
-- Knowledge search runs offline: BM25 over the chunks of the knowledge base (FTS5, external content keyed by the
-- chunk's rid, same word tokenizer as messages). A chunk carries its heading (the article title, or the section it
-- sits under), indexed as its own column so ranking can weigh it. Chunks stay local and derived: rebuilt from the
-- articles, never synced.
ALTER TABLE knowledge_chunks ADD COLUMN heading TEXT NOT NULL DEFAULT '';

CREATE VIRTUAL TABLE knowledge_fts USING fts5(
    heading, body, content='knowledge_chunks', content_rowid='rid',
    tokenize="unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
);
INSERT INTO knowledge_fts (knowledge_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO knowledge_fts (rowid, heading, body) SELECT rid, heading, body FROM knowledge_chunks;

CREATE TRIGGER knowledge_fts_insert AFTER INSERT ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (rowid, heading, body) VALUES (new.rid, new.heading, new.body);
END;
CREATE TRIGGER knowledge_fts_delete AFTER DELETE ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, heading, body) VALUES ('delete', old.rid, old.heading, old.body);
END;
CREATE TRIGGER knowledge_fts_update AFTER UPDATE OF heading, body ON knowledge_chunks BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, heading, body) VALUES ('delete', old.rid, old.heading, old.body);
    INSERT INTO knowledge_fts (rowid, heading, body) VALUES (new.rid, new.heading, new.body);
END;

-- Provider embeddings of chunks, one row per chunk and embedding model: little-endian float32 vectors, kept in the
-- encrypted file like everything else. Local and derived (re-embedded when the model changes).
CREATE TABLE knowledge_embeddings (
    chunk_id TEXT NOT NULL,
    model TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (chunk_id, model)
) WITHOUT ROWID;

-- AI calls: time to first token, how many provider entries were tried, and the error when it failed.
ALTER TABLE ai_interactions ADD COLUMN ttft_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ai_interactions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE ai_interactions ADD COLUMN error TEXT;

-- Prompt and reply text of an AI call, only when the user opted in (BYOK keeps none by default). Local only: never
-- synced, removed with its interaction.
CREATE TABLE ai_transcripts (
    interaction_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    reply TEXT NOT NULL
);
