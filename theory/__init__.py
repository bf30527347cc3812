"""theory: every bound and constant of Marion, Wu, Sander, Biau (ICLR 2024) in sympy/mpmath.

No torch here: ``import theory`` is pure (sympy and mpmath: the catalog's formulas are the
sympy expressions of the family modules, theory.formula).  Start from :data:`catalog` (the
statements, keyed by id) and :mod:`theory.activations` (profiles of sigma).
"""

from theory.catalog import CheckResult as CheckResult
from theory.catalog import Statement as Statement
from theory.catalog import catalog as catalog
from theory.config import Config as Config
from theory.errors import ConfigError as ConfigError
from theory.errors import DivergenceError as DivergenceError

__all__ = ["CheckResult", "Config", "ConfigError", "DivergenceError", "Statement", "catalog"]
