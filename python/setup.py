"""Builds a platform wheel ``py3-none-<platform>``: pure-Python code plus the prebuilt
libfmi.so inside the package (no compiler is run). The platform tag comes from
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


if not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fmi", "libfmi.so")):
    raise SystemExit("fmi/libfmi.so is missing: build the wheel with python/build-wheel.sh")

setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": platform_wheel})
