"""The error of a request the API cannot use, with the HTTP status of its answer."""
from digits.errors import UserInputError


class BadRequest(UserInputError):
    """A request the API cannot use; `status` is the HTTP status of the answer (4xx, or 503
    when the server is too busy to take it now)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status
