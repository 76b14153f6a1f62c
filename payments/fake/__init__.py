"""An in-memory provider for tests of the core; it passes the same contract suite as the real ones."""
