"""Match indexes: exact lookup for cryptographic hashes, exact Hamming-radius search for PDQ.

``PDQIndex`` (multi-index hashing with live updates) and ``ExactIndex`` (sha256/md5/sha1),
plus the conversions between PDQ hex strings and (n, 32) uint8 arrays. Importing this
package does not import numba; the kernels compile (or load from numba's cache) on first use.
"""

from rempart.matching.codec import hashes_to_hex, hex_to_hashes
from rempart.matching.exact_index import ExactIndex
from rempart.matching.pdq_index import DEFAULT_THRESHOLD, PDQIndex

__all__ = ["DEFAULT_THRESHOLD", "ExactIndex", "PDQIndex", "hashes_to_hex", "hex_to_hashes"]
