//! Placeholder library so the workspace root can hold the integration tests in `tests/`.
