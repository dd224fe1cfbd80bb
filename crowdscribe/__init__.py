"""The base every other package builds on: settings, storage, refusals and the clock."""
