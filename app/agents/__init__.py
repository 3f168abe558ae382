"""The agents (issue 18) and what they stand on: the durable jobs' kinds and their runner."""
