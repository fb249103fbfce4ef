//! libpyrewrite.so (to be built by the preload issue).
