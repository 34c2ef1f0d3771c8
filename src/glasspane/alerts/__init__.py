"""Alerts: rules from a YAML file, an engine that evaluates them with the query
layer, and notifiers (Slack, PagerDuty, email, webhooks)."""
