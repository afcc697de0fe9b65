"""The benign demo scenario (``rempart demo``)."""

from rempart.demo.scenario import DemoSummary, run_demo

__all__ = ["DemoSummary", "run_demo"]
