"""The law-enforcement desk's database side: never imported by the pure core (``rempart.legal``).

- ``models``     tables: agencies, officers (and their API keys), orders with their clock
                 events, deliveries, emergency approvals and callbacks, CyberTipline reports
- ``agencies``   registering authorities and their verified contact; officers and their keys
- ``orders``     receiving an order (validation, identifier checks, hold, "do not inform"),
                 its legal clock, listing and reading orders as each principal may
- ``answer``     collecting the authorised records and media, numbered signed deliveries
- ``emergency``  two-person approval and the callback check of voluntary emergency requests
- ``ledger``     the order's transparency leaves (committed now, revealed later)
- ``tipline``    CyberTipline reports from confirmed cases, submitted with retries

Import the submodules; this package re-exports nothing.
"""
