"""The provider's algorithms, one class per rsdetect command."""
