"""gguf.py -- the project's own GGUF v3 writer and reader in Python (no gguf
pip package): metadata of every GGUF value type, F32 / F16 / Q8_0 tensors
with llama.cpp's layouts, 32-byte aligned data.

Q8_0 (ggml type 8) packs 32 consecutive values of a row into 34 bytes:
an f16 scale d = max|x| / 127 followed by 32 int8 q = round(x / d), rounded
half away from zero, computed in float32 with x * (1/d) exactly as
llama.cpp's quantize_row_q8_0_ref does.
"""
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

# metadata value types
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, \
    T_UINT64, T_INT64, T_FLOAT64 = range(13)
_SCALAR = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
           T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d"}

# tensor types
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
TYPE_NAMES = {"f32": GGML_F32, "f16": GGML_F16, "q8_0": GGML_Q8_0}
QK8_0 = 32


class GGUFError(Exception):
    pass


# --- Q8_0 ----------------------------------------------------------------------

def quantize_q8_0(x):
    """x: float array whose last dimension is a multiple of 32 -> bytes."""
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, QK8_0)
    amax = np.abs(x).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    v = (x * inv[:, None]).astype(np.float32)
    q = (np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))).astype(np.int8)  # roundf
    out = np.empty((x.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def dequantize_q8_0(buf, n):
    blocks = np.frombuffer(buf, dtype=np.uint8, count=(n // QK8_0) * 34).reshape(-1, 34)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
    return (q * d).reshape(-1)


def tensor_nbytes(ggml_type, n):
    if ggml_type == GGML_F32:
        return 4 * n
    if ggml_type == GGML_F16:
        return 2 * n
    if ggml_type == GGML_Q8_0:
        if n % QK8_0:
            raise GGUFError("Q8_0 needs a multiple of 32 elements, got %d" % n)
        return n // QK8_0 * 34
    raise GGUFError("unsupported tensor type %d" % ggml_type)


# --- writer ---------------------------------------------------------------------

def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, v):
    if vtype == T_STRING:
        return _str(v)
    if vtype == T_ARRAY:
        etype, items = v
        body = b"".join(_value(etype, i) for i in items) if etype in (T_STRING, T_ARRAY) else \
            np.asarray(items, dtype=np.dtype(_SCALAR[etype])).tobytes()
        return struct.pack("<IQ", etype, len(items)) + body
    return struct.pack(_SCALAR[vtype], v)


class GGUFWriter:
    """Collects metadata and tensors, then writes the file in one pass.
    Tensors are given in PyTorch's [rows, cols] order; GGUF dimensions are
    stored innermost first (ne[0] = cols)."""

    def __init__(self):
        self.kv = []        # (key, type, value)
        self.tensors = []   # (name, shape, ggml_type, bytes)

    def add(self, key, vtype, value):
        self.kv.append((key, vtype, value))

    def add_tensor(self, name, array, ggml_type):
        a = np.ascontiguousarray(array, dtype=np.float32)
        if ggml_type == GGML_F32:
            data = a.tobytes()
        elif ggml_type == GGML_F16:
            data = a.astype(np.float16).tobytes()
        elif ggml_type == GGML_Q8_0:
            if a.shape[-1] % QK8_0:
                raise GGUFError("%s: row length %d is not a multiple of 32 for Q8_0" % (name, a.shape[-1]))
            data = quantize_q8_0(a)
        else:
            raise GGUFError("unsupported tensor type %d" % ggml_type)
        self.tensors.append((name, tuple(a.shape), ggml_type, data))

    def write(self, path):
        head = bytearray(GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv)))
        for key, vtype, value in self.kv:
            head += _str(key) + struct.pack("<I", vtype) + _value(vtype, value)
        offset = 0
        for name, shape, gtype, data in self.tensors:
            dims = list(reversed(shape))
            head += _str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            head += struct.pack("<IQ", gtype, offset)
            offset += (len(data) + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        head += b"\0" * (-len(head) % ALIGNMENT)
        with open(path, "wb") as f:
            f.write(head)
            for _, _, _, data in self.tensors:
                f.write(data)
                f.write(b"\0" * (-len(data) % ALIGNMENT))


# --- reader (for tests and for loading a shipped model into PyTorch) -------------

class _Cursor:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.buf):
            raise GGUFError("truncated file at byte %d (need %d more)" % (self.pos, n))
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        return self.take(self.unpack("<Q")).decode("utf-8")


def _read_value(c, vtype):
    if vtype == T_STRING:
        return c.string()
    if vtype == T_ARRAY:
        etype, n = c.unpack("<I"), c.unpack("<Q")
        if etype in (T_STRING, T_ARRAY):
            return [_read_value(c, etype) for _ in range(n)]
        if etype not in _SCALAR:
            raise GGUFError("bad array element type %d" % etype)
        dt = np.dtype(_SCALAR[etype])
        return np.frombuffer(c.take(n * dt.itemsize), dtype=dt).tolist()
    if vtype not in _SCALAR:
        raise GGUFError("bad metadata value type %d" % vtype)
    return c.unpack(_SCALAR[vtype])


def read_gguf(path):
    """Returns (metadata dict, {name: (ggml_type, shape_rows_cols, float32 array)})."""
    with open(path, "rb") as f:
        buf = f.read()
    c = _Cursor(buf)
    if c.take(4) != GGUF_MAGIC:
        raise GGUFError("%s is not a GGUF file" % path)
    version = c.unpack("<I")
    if version not in (2, 3):
        raise GGUFError("unsupported GGUF version %d" % version)
    n_tensors, n_kv = c.unpack("<Q"), c.unpack("<Q")
    meta = {}
    for _ in range(n_kv):
        key = c.string()
        meta[key] = _read_value(c, c.unpack("<I"))
    infos = []
    for _ in range(n_tensors):
        name = c.string()
        nd = c.unpack("<I")
        dims = [c.unpack("<Q") for _ in range(nd)]
        infos.append((name, dims, c.unpack("<I"), c.unpack("<Q")))
    align = meta.get("general.alignment", ALIGNMENT)
    start = (c.pos + align - 1) // align * align
    tensors = {}
    for name, dims, gtype, off in infos:
        n = int(np.prod(dims)) if dims else 1
        nb = tensor_nbytes(gtype, n)
        if start + off + nb > len(buf):
            raise GGUFError("tensor %s runs past the end of the file" % name)
        raw = buf[start + off:start + off + nb]
        if gtype == GGML_F32:
            a = np.frombuffer(raw, dtype=np.float32).copy()
        elif gtype == GGML_F16:
            a = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
        else:
            a = dequantize_q8_0(raw, n)
        tensors[name] = (gtype, tuple(reversed(dims)), a.reshape(tuple(reversed(dims))))
    return meta, tensors
