"""PDQ hashing of canonical RGB pixels with Meta's reference code (the ``pdqhash`` bindings).

Hex form: the 256 bits as ``pdqhash`` returns them (index 0 first), packed most significant bit
first into 32 bytes, written as 64 lowercase hex digits. This is the form of Meta's reference tools
and of ``pdq-reference.csv`` (checked bit for bit by the tests).

The dihedral variants are the hashes of the picture transformed as named, computed by PDQ from the
one DCT (no re-hashing of transformed pixels; within a few bits of hashing the transformed picture).
Names follow Meta's PDQ (``pdqDihedralHash256esFromFloatLuma``) and the reference test images:

    original    the picture as given
    rot90       rotated 90 degrees counter-clockwise (``numpy.rot90(a, 1)``)
    rot180      rotated 180 degrees
    rot270      rotated 270 degrees counter-clockwise (90 clockwise)
    flipx       mirrored about the horizontal axis: upside down (``a[::-1]``)
    flipy       mirrored about the vertical axis: left-right (``a[:, ::-1]``)
    transpose   reflected about the main diagonal (``a.transpose(1, 0, 2)``)
    transverse  reflected about the anti-diagonal

Speed: the whole cost of PDQ on a large picture is the downsampling to 64 x 64 (luma, two
passes of Jarosz box filters, decimation), which ``pdqhash`` does in float64 numpy and
unvectorised C++ (about a second for 12 megapixels). Here it runs in numba kernels
(``rempart.signals._kernels``), streamed over blocks of rows with the very same float operations,
so the 64 x 64 samples are bit for bit the reference's; the quality metric, the DCT, the dihedral
sign flips and transposes of the one DCT and the median threshold are Meta's C++ functions that
the ``pdqhash`` extension contains, called through ``ctypes`` (``_FastReference``): about 15x
faster than ``pdqhash``, GIL released, hashes bit for bit those of ``pdqhash.compute`` /
``compute_dihedral``. The kernels are compiled (or loaded from numba's cache) on first use and
kept only after they reproduced ``pdqhash`` on probe pictures (odd sizes, 64 x 64, 5 x 9,
strided and grey views).

Fallback, when numba or a symbol is missing: the luma computed in strips of rows into one
float32 buffer with the same arithmetic (``(R*0.299 + G*0.587) + B*0.114`` in float64, rounded
to float32) and handed to Meta's ``pdqHash256FromFloatLuma`` / ``pdqDihedralHash256esFromFloatLuma``
(``_ReferenceFromLuma``), and failing that the ``pdqhash`` functions, at their cost.

Memory (what ``HASH_BYTES_PER_PIXEL`` accounts for, the fallback's peak, an upper bound of the
fast path's): the fast path holds no picture-sized buffer (a ring of rows as deep as the column
filter's window, about 1/128 of the picture); the fallback two float32 pictures, 8 bytes per
pixel; ``pdqhash`` itself 24 bytes per pixel more of float64 temporaries. No path copies the RGB
input as a whole (any strided view will do, e.g. a grey picture broadcast to three channels).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np
import pdqhash

from rempart.errors import InvalidInput, InvariantViolation
from rempart.signals.types import PDQ

DIHEDRAL_NAMES = (
    "original", "rot90", "rot180", "rot270", "flipx", "flipy", "transpose", "transverse",
)

#: Meta's recommended floor: hashes under it carry too little signal to match on. The one
#: definition: banking, matching, videos and the blast radius all import it.
LOW_QUALITY = 50
#: PDQ's customary match distance: hashes within 31 bits (inclusive) show the same picture. The
#: default of every bank, of the PDQ index and of video comparison; defined here, once.
DEFAULT_THRESHOLD = 31


def pdq_hash(rgb: np.ndarray) -> tuple[str, int]:
    """Return ``(hex, quality)`` of an ``H x W x 3`` uint8 RGB array (any strides)."""
    _checked(rgb)
    reference = _fast() or _REFERENCE
    if reference is None:
        bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
        return bits_to_hex(bits), int(quality)
    return reference.hash(rgb)


def pdq_dihedral(rgb: np.ndarray) -> tuple[dict[str, str], int]:
    """Return ``({name: hex} for the 8 DIHEDRAL_NAMES, quality)`` of an RGB array (any strides).

    ``["original"]`` equals ``pdq_hash(rgb)[0]`` exactly (the same computation).
    """
    _checked(rgb)
    reference = _fast() or _REFERENCE
    if reference is None:
        hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
        if len(hashes) != len(DIHEDRAL_NAMES):
            raise InvariantViolation(
                f"pdqhash.compute_dihedral returned {len(hashes)} hashes, expected 8")
        return {name: bits_to_hex(b) for name, b in zip(DIHEDRAL_NAMES, hashes)}, int(quality)
    values, quality = reference.dihedral(rgb)
    return dict(zip(DIHEDRAL_NAMES, values)), quality


def bits_to_hex(bits: np.ndarray) -> str:
    """Pack 256 0/1 values (index 0 = most significant bit) into 64 hex digits."""
    if bits.shape != (256,):
        raise InvariantViolation(f"a PDQ hash has 256 bits, got shape {bits.shape}")
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hamming(a_hex: str, b_hex: str) -> int:
    """Hamming distance between two PDQ hashes given as 64 hex digits (case-insensitive).

    Raises ``InvalidSignal`` (an ``InvalidInput``) when either is not 64 hex digits.
    """
    a, b = PDQ.validate(a_hex), PDQ.validate(b_hex)
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hex_to_words(hexes: list[str]) -> np.ndarray:
    """Convert validated 64-digit hex hashes to an ``N x 4`` uint64 array (for vectorised distances)."""
    if not hexes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=">u8")
    return raw.astype(np.uint64).reshape(len(hexes), 4)


def _checked(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InvalidInput("PDQ hashing expects an H x W x 3 uint8 array")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise InvalidInput("cannot PDQ-hash an empty picture")


# ---------------------------------------------------------------- Meta's C++ on our own luma

_STRIP_BYTES = 4 << 20  # float64 temporaries per strip of rows: a few MiB, whatever the picture


#: the luma of a grey level v, (v*0.299 + v*0.587) + v*0.114 in float64 rounded to float32:
#: a grey picture (three equal channels) is mapped through it, value for value the same
_GREY_LUMA = np.array([v * 0.299 + v * 0.587 + v * 0.114 for v in range(256)]).astype(np.float32)


def float_luma(rgb: np.ndarray) -> np.ndarray:
    """PDQ's float32 luma of an RGB array, exactly as ``pdqhash`` computes it, strip by strip."""
    height, width = rgb.shape[:2]
    if rgb.strides[2] == 0:  # a grey picture seen as three equal channels
        return _GREY_LUMA[rgb[:, :, 0]]
    luma = np.empty((height, width), np.float32)
    rows = max(1, _STRIP_BYTES // (8 * width))
    for top in range(0, height, rows):
        strip = rgb[top:top + rows]
        luma[top:top + rows] = (strip[:, :, 0] * 0.299 + strip[:, :, 1] * 0.587
                                + strip[:, :, 2] * 0.114)
    return luma


class _Hash256(ctypes.Structure):
    _fields_ = [("w", ctypes.c_uint16 * 16)]

    def hex(self) -> str:
        # Meta's hashToString: word 15 first, each word as 4 hex digits (= bits_to_hex of pdqhash)
        return bytes(self)[::-1].hex()  # the 16 little-endian words, reversed


_P = ctypes.c_void_p
_HASH = "_ZN8facebook3pdq7hashing23pdqHash256FromFloatLumaEPfS2_iiPA64_fS4_PA16_fRNS1_7Hash256ERi"
_DIHEDRAL = ("_ZN8facebook3pdq7hashing33pdqDihedralHash256esFromFloatLumaEPfS2_iiPA64_fS4_PA16_f"
             "S6_PNS1_7Hash256ES8_S8_S8_S8_S8_S8_S8_Ri")


class _ReferenceFromLuma:
    """Meta's ``pdq*FromFloatLuma`` functions, as compiled into the ``pdqhash`` extension."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._hash = getattr(library, _HASH)
        self._hash.argtypes = [_P, _P, ctypes.c_int, ctypes.c_int, _P, _P, _P,
                               ctypes.POINTER(_Hash256), ctypes.POINTER(ctypes.c_int)]
        self._hash.restype = None
        self._dihedral = getattr(library, _DIHEDRAL)
        self._dihedral.argtypes = ([_P, _P, ctypes.c_int, ctypes.c_int, _P, _P, _P, _P]
                                   + [ctypes.POINTER(_Hash256)] * 8 + [ctypes.POINTER(ctypes.c_int)])
        self._dihedral.restype = ctypes.c_bool

    def hash(self, rgb: np.ndarray) -> tuple[str, int]:
        luma, scratch, small = self._buffers(rgb)
        out, quality = _Hash256(), ctypes.c_int()
        self._hash(luma.ctypes.data, scratch.ctypes.data, luma.shape[0], luma.shape[1],
                   *(b.ctypes.data for b in small[:3]), ctypes.byref(out), ctypes.byref(quality))
        return out.hex(), quality.value

    def dihedral(self, rgb: np.ndarray) -> tuple[list[str], int]:
        luma, scratch, small = self._buffers(rgb)
        outs, quality = [_Hash256() for _ in DIHEDRAL_NAMES], ctypes.c_int()
        self._dihedral(luma.ctypes.data, scratch.ctypes.data, luma.shape[0], luma.shape[1],
                       *(b.ctypes.data for b in small), *(ctypes.byref(h) for h in outs),
                       ctypes.byref(quality))
        return [h.hex() for h in outs], quality.value

    @staticmethod
    def _buffers(rgb: np.ndarray):
        luma = float_luma(rgb)
        small = (np.zeros((64, 64), np.float32), np.zeros((16, 64), np.float32),
                 np.zeros((16, 16), np.float32), np.zeros((16, 16), np.float32))
        return luma, np.zeros(luma.shape, np.float32), small


_MANGLED = {
    "quality": "_ZN8facebook3pdq7hashing27pdqImageDomainQualityMetricEPA64_f",
    "dct": "_ZN8facebook3pdq7hashing9dct64To16EPA64_fS3_PA16_f",
    "bits": "_ZN8facebook3pdq7hashing20pdqBuffer16x16ToBitsEPA16_fPNS1_7Hash256E",
    "rot90": "_ZN8facebook3pdq7hashing23dct16OriginalToRotate90EPA16_fS3_",
    "rot180": "_ZN8facebook3pdq7hashing24dct16OriginalToRotate180EPA16_fS3_",
    "rot270": "_ZN8facebook3pdq7hashing24dct16OriginalToRotate270EPA16_fS3_",
    "flipx": "_ZN8facebook3pdq7hashing20dct16OriginalToFlipXEPA16_fS3_",
    "flipy": "_ZN8facebook3pdq7hashing20dct16OriginalToFlipYEPA16_fS3_",
    "transpose": "_ZN8facebook3pdq7hashing24dct16OriginalToFlipPlus1EPA16_fS3_",
    "transverse": "_ZN8facebook3pdq7hashing25dct16OriginalToFlipMinus1EPA16_fS3_",
}
#: PDQ's MIN_HASHABLE_DIM: a smaller picture hashes to 256 zero bits, quality 0
_MIN_DIM = 5


class _FastReference:
    """PDQ with the downsampling in numba and the rest in Meta's C++.

    The 64 x 64 samples (luma, Jarosz filter, decimation: the whole cost on a large picture)
    come from ``rempart.signals._kernels``, bit for bit the reference's; the image-domain
    quality, the DCT, the dihedral sign flips and the median threshold are Meta's functions
    compiled into ``pdqhash`` (``pdqImageDomainQualityMetric``, ``dct64To16``,
    ``dct16OriginalTo*``, ``pdqBuffer16x16ToBits``), called through ``ctypes``.
    """

    def __init__(self, library: ctypes.CDLL, kernels) -> None:
        self._kernels = kernels
        f = {name: getattr(library, symbol) for name, symbol in _MANGLED.items()}
        f["quality"].argtypes, f["quality"].restype = [_P], ctypes.c_int
        f["dct"].argtypes, f["dct"].restype = [_P, _P, _P], None
        f["bits"].argtypes, f["bits"].restype = [_P, ctypes.POINTER(_Hash256)], None
        for name in DIHEDRAL_NAMES[1:]:
            f[name].argtypes, f[name].restype = [_P, _P], None
        self._f = f

    def samples(self, rgb: np.ndarray, *, plain_64: bool) -> np.ndarray | None:
        """The 64 x 64 float32 samples PDQ takes its DCT of; None below ``_MIN_DIM``.

        ``plain_64``: a 64 x 64 picture is taken as is, unfiltered (``pdqHash256FromFloatLuma``
        does so; the dihedral function filters it like any other size).
        """
        rows, cols = rgb.shape[:2]
        if rows < _MIN_DIM or cols < _MIN_DIM:
            return None
        out = np.empty((64, 64), np.float32)
        rgb = rgbx_parent(rgb)
        if plain_64 and rows == 64 and cols == 64:
            self._kernels.luma_plain(rgb, out)
        else:
            self._kernels.luma64(rgb, out)
        return out

    def hash(self, rgb: np.ndarray) -> tuple[str, int]:
        samples = self.samples(rgb, plain_64=True)
        if samples is None:
            return "0" * 64, 0
        dct, quality = self._dct(samples)
        return self._bits(dct), quality

    def dihedral(self, rgb: np.ndarray) -> tuple[list[str], int]:
        samples = self.samples(rgb, plain_64=False)
        if samples is None:
            return ["0" * 64] * len(DIHEDRAL_NAMES), 0
        dct, quality = self._dct(samples)
        out, aux = [self._bits(dct)], np.empty((16, 16), np.float32)
        for name in DIHEDRAL_NAMES[1:]:
            self._f[name](dct.ctypes.data, aux.ctypes.data)
            out.append(self._bits(aux))
        return out, quality

    def _dct(self, samples: np.ndarray) -> tuple[np.ndarray, int]:
        quality = self._f["quality"](samples.ctypes.data)
        scratch, dct = np.empty((16, 64), np.float32), np.empty((16, 16), np.float32)
        self._f["dct"](samples.ctypes.data, scratch.ctypes.data, dct.ctypes.data)
        return dct, int(quality)

    def _bits(self, dct: np.ndarray) -> str:
        out = _Hash256()
        self._f["bits"](dct.ctypes.data, ctypes.byref(out))
        return out.hex()


def rgbx_parent(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as the C-contiguous ``H x W x 4`` array it is the first three channels of, when
    it is one (decoding shares Pillow's RGBX memory so, ``decode._shared``), else ``rgb``: numba
    indexes a contiguous array faster than a strided view (the fourth byte is never read)."""
    rows, cols = rgb.shape[:2]
    base = rgb.base
    if (rgb.strides != (4 * cols, 4, 1) or not isinstance(base, np.ndarray)
            or base.dtype != np.uint8 or not base.flags.c_contiguous
            or base.nbytes != rows * cols * 4 or base.ctypes.data != rgb.ctypes.data):
        return rgb
    return base.reshape(rows, cols, 4)


def _load_reference() -> _ReferenceFromLuma | None:
    """The C++ entry points, if this ``pdqhash`` build exports them and they agree with it."""
    try:
        reference = _ReferenceFromLuma(ctypes.CDLL(pdqhash.bindings.__file__))
    except (OSError, AttributeError):
        return None
    probe = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    hashes, quality = pdqhash.compute_dihedral(probe)  # also initialises PDQ's static DCT matrix
    expected = ([bits_to_hex(b) for b in hashes], int(quality))
    return reference if reference.dihedral(probe) == expected else None


_REFERENCE = _load_reference()

#: bytes per pixel that hashing one frame holds at its peak (see the module docstring)
HASH_BYTES_PER_PIXEL = 8 if _REFERENCE is not None else 3 + 24 + 8


def _probes() -> list[np.ndarray]:
    """Pictures the fast path must hash exactly as ``pdqhash`` does before it is used: odd
    sizes, PDQ's 64 x 64 special case, the smallest hashable size, strided, grey and read-only
    (contiguous or strided) views (each array type numba compiles for: the probes compile them
    all at first use)."""
    rng = np.random.default_rng(11)
    noise = rng.integers(0, 256, (301, 517, 3), dtype=np.uint8)
    smooth = np.cumsum(rng.integers(0, 3, (200, 130, 3)), axis=0).astype(np.uint8)
    grey = rng.integers(0, 256, (97, 41), dtype=np.uint8)
    frozen = smooth.copy()
    frozen.setflags(write=False)  # as numpy sees a decoded Pillow picture
    shared = rng.integers(0, 256, (83, 61, 4), dtype=np.uint8)[:, :, :3]
    shared.setflags(write=False)  # as decoding shares Pillow's RGBX memory (decode._shared)
    return [noise, noise[::-1, ::3], smooth.transpose(1, 0, 2), noise[:64, :64],
            noise[:5, :9], np.broadcast_to(grey[:, :, None], (*grey.shape, 3)), frozen, shared]


_FAST: list = []  # [] until first use, then [the fast path or None]
_FAST_LOCK = threading.Lock()


def _fast() -> _FastReference | None:
    """The numba + C++ path, loaded on first use and kept only if it reproduced ``pdqhash``
    (bit for bit, hashes and quality) on every probe picture. Loaded once: a thread that asks
    while another loads it waits for that one."""
    if not _FAST:
        with _FAST_LOCK:
            if not _FAST:
                _FAST.append(_load_fast())
    return _FAST[0]


def fast_path_loaded() -> bool:
    """Load the fast path now (compiling its kernels for every probe's array type, see
    ``rempart.signals.warm``); whether it is in use."""
    return _fast() is not None


def _load_fast() -> _FastReference | None:
    if _REFERENCE is None:
        return None
    try:
        from rempart.signals import _kernels  # numba: imported and compiled on first use
        fast = _FastReference(ctypes.CDLL(pdqhash.bindings.__file__), _kernels)
    except (ImportError, OSError, AttributeError):
        return None
    for probe in _probes():
        dense = np.ascontiguousarray(probe)
        hashes, quality = pdqhash.compute_dihedral(dense)
        single, single_quality = pdqhash.compute(dense)
        expected = ([bits_to_hex(b) for b in hashes], int(quality))
        if (fast.dihedral(probe) != expected
                or fast.hash(probe) != (bits_to_hex(single), int(single_quality))):
            return None
    return fast
