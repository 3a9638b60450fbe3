"""Old import paths of difflearn 0.1, kept for one release with a `DeprecationWarning`.

The package was reorganised so that its folders tell its architecture
(`schedules/`, `samplers/`, `models/`, `training/`, `data/`). Every module that moved
is listed in `MOVED`; importing the old name gives a thin proxy module that forwards
attribute access to the new one(s) and warns once. `moved_names` does the same for a
name that moved out of a module that still exists.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

# old module -> new module(s), searched in order for each attribute
MOVED: dict[str, tuple[str, ...]] = {
    "difflearn.betas": ("difflearn.schedules.betas",),
    "difflearn.timesteps": ("difflearn.schedules.grids",),
    "difflearn.toy": ("difflearn.data.mixture", "difflearn.data.toy2d"),
    "difflearn.toy_mlp": ("difflearn.models.toy_mlp",),
    "difflearn.train": ("difflearn.training",),
    "difflearn.trainer": ("difflearn.training.loop", "difflearn.training.checkpoints"),
    "difflearn.dpm_solver": ("difflearn.samplers.dpm_solver",),
    "difflearn.dpm_solver_updates": ("difflearn.samplers.dpm_solver.updates",),
    "difflearn.dpm_solver_plan": ("difflearn.samplers.dpm_solver.plans",),
    "difflearn.samplers._common": ("difflearn.samplers.core",),
    "difflearn.models.attention": ("difflearn.models.adm.attention",),
    "difflearn.models.blocks": ("difflearn.models.adm.blocks",),
    "difflearn.models.checkpoint": ("difflearn.models.adm.checkpoint",),
    "difflearn.models.classifier": ("difflearn.models.adm.classifier",),
    "difflearn.models.fast": ("difflearn.models.adm.inference",),
    "difflearn.models.learn_sigma": ("difflearn.models.adm.learn_sigma",),
    "difflearn.models.nn": ("difflearn.models.adm.nn",),
    "difflearn.models.presets": ("difflearn.models.adm.presets",),
    "difflearn.models.unet": ("difflearn.models.adm.unet",),
}


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated and will be removed in difflearn 0.3: use {new}",
        DeprecationWarning,
        stacklevel=3,
    )


class _Proxy(types.ModuleType):
    """A module whose attributes are read from the modules that replaced it."""

    def __init__(self, old: str, targets: tuple[str, ...]):
        super().__init__(old, f"Deprecated alias of {', '.join(targets)}.")
        self._targets = targets

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        for target in self._targets:
            module = importlib.import_module(target)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(
            f"module {self.__name__!r} (now {', '.join(self._targets)}) "
            f"has no attribute {name!r}"
        )

    def __dir__(self):
        return sorted(
            {n for t in self._targets for n in dir(importlib.import_module(t))}
        )


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old module names of `MOVED` and loads them as `_Proxy` modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        _warn(spec.name, " / ".join(MOVED[spec.name]))
        return _Proxy(spec.name, MOVED[spec.name])

    def exec_module(self, module):
        pass


def install() -> None:
    """Put the alias finder on `sys.meta_path` (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder())


def moved_names(module: str, names: dict[str, str]):
    """A module-level `__getattr__` for names that moved out of `module`
    (name -> new module).
    """

    def __getattr__(name: str):
        if name in names:
            _warn(f"{module}.{name}", f"{names[name]}.{name}")
            return getattr(importlib.import_module(names[name]), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
