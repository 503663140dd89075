"""Operating the hotline: Prometheus metrics, health checks, JSON logs,
retention of personal data, the production supervisor and the launcher of
the embedded profile's servers on free ports."""
