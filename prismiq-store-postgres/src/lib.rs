//! PostgreSQL store for Prismiq (in progress).
