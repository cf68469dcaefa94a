"""Keeping a deployment's database in step with the models: indexes, validators, backfills."""
