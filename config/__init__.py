"""Settings classes and the policy tables (config/policies/)."""
