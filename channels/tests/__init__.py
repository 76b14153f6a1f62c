"""Tests of the channel port, the registry and the identity sandboxes."""
