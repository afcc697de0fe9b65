"""Scale-out mode: the NATS JetStream stream between API nodes and scan workers."""
