"""Rules, state machines, money and documents. Standard library only."""
