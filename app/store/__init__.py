"""The encrypted local store: SQLCipher connection and keys, migrations, repositories, search, outbox, backup."""
