//! Query definitions, validation and compilation to SQL (no I/O).
