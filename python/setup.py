"""Builds a platform wheel ``py3-none-<platform>``: pure-Python code plus the prebuilt
libfmi.so and libmpi_abi.so.1 inside the package (no compiler is run). The platform tag comes from
$FMI_WHEEL_PLAT, which python/build-wheel.sh derives from the library it packs (architecture,
and the newest glibc symbol version it needs, e.g. manylinux_2_34_x86_64)."""

import os
import platform

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    """Carries a native library: the package goes to platlib, at the root of the wheel."""

    def has_ext_modules(self):
        return True


class platform_wheel(bdist_wheel):
    def get_tag(self):
        plat = os.environ.get("FMI_WHEEL_PLAT") or "linux_" + platform.machine()
        return "py3", "none", plat


for _lib in ("libfmi.so", "libmpi_abi.so.1"):
    if not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fmi", _lib)):
        raise SystemExit(f"fmi/{_lib} is missing: build the wheel with python/build-wheel.sh")

setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": platform_wheel})
