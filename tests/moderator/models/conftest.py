"""The model tests reuse the training helpers (functional-case evaluation)."""

import sys
from pathlib import Path

# training/ is a folder of scripts at the repository root, not an installed package.
_REPO_ROOT = str(Path(__file__).resolve().parents[3])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)
