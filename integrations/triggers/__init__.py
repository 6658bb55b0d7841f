"""Trigger evaluators: should the bot hand this prospect to a human now? One interface, chosen by configuration."""
