"""Type names of the numpy arrays the matcher passes between its modules (no behaviour)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["F64", "I32", "I64", "U8", "U32", "U64"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U32 = npt.NDArray[np.uint32]
U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
