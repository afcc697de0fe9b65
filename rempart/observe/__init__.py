"""What a running node tells its operators: Prometheus metrics and JSON logs."""
