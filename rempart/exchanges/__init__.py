"""Hash-sharing exchanges: banks kept in sync with NCMEC, ThreatExchange, StopNCII and other
rempart deployments, and the feed this rempart shares with its partners.

    protocols/   each service's wire protocol, pure: checkpoint -> request, bytes -> page
    transport    HTTP (httpx): authentication, retries, rate limits, bad pages fetched again
    service      sources, credentials, the sync loop (one transaction per page + checkpoint)
    apply        a batch of upstream records -> bank entries and upstream ids (``apply_batch``)
    feedback     reviewers' opinions queued and delivered; provenance of matches
    feed         partners, keys, and the signed pages of ``GET /v1/exchange/feed``
    testservers  local NCMEC / ThreatExchange / StopNCII servers with failure injection

Modules import what they need from each other directly (this package exports nothing, so that
``rempart --help`` and the pure protocols load no database code).
"""
