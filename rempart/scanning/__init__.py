"""The upload path: content -> signals -> matches -> verdict, the scan ledger and retro-scan."""
