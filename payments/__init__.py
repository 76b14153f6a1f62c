"""Payment providers behind one port (``payments.base``); each provider in its own package."""
