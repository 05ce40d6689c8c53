"""The exceptions of failed libfmi calls, and the checks that raise them."""

from . import _capi


class FMIError(RuntimeError):
    """A failed libfmi call: ``status`` (int), ``status_name`` ("FMI_ERR_..."), ``message``."""

    def __init__(self, status, message=""):
        self.status = int(status)
        self.status_name = _capi.STATUS_NAMES.get(self.status, "FMI_STATUS_%d" % self.status)
        self.message = message or _capi.strerror(self.status)
        super().__init__("%s: %s" % (self.status_name, self.message))

    def __reduce__(self):
        return (self.__class__, (self.status, self.message))


class Timeout(FMIError, TimeoutError):
    """FMI_ERR_TIMEOUT: the call did not complete within the communicator's timeout."""


class InvalidArgument(FMIError, ValueError):
    """FMI_ERR_INVALID_ARG (also raised for arguments that the binding itself rejects)."""


class SizeMismatch(FMIError, ValueError):
    """FMI_ERR_SIZE_MISMATCH: a message's size differs from the receive buffer."""


class PeerLost(FMIError, ConnectionError):
    """FMI_ERR_PEER_LOST: a peer closed its connection or died."""


_ERROR_CLASSES = {
    _capi.FMI_ERR_TIMEOUT: Timeout,
    _capi.FMI_ERR_INVALID_ARG: InvalidArgument,
    _capi.FMI_ERR_SIZE_MISMATCH: SizeMismatch,
    _capi.FMI_ERR_PEER_LOST: PeerLost,
}


def _error(status, message=None):
    if message is None:
        message = _capi.last_error_message()
    return _ERROR_CLASSES.get(status, FMIError)(status, message)


def _check(status):
    if status != _capi.FMI_SUCCESS:
        raise _error(status)


def _invalid(message):
    return InvalidArgument(_capi.FMI_ERR_INVALID_ARG, message)

