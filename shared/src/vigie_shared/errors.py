"""Error answers that never echo what was sent.

FastAPI's default 422 repeats each invalid value (`input`) and sometimes its context; for a body of
comment texts that puts the comment in the error response, and from there in proxies' and clients'
logs. Here the answer keeps where and why (`loc`, `type`, `msg`) and drops the value.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {"loc": list(item.get("loc", ())), "type": item.get("type"), "msg": item.get("msg")}
        for item in error.errors()
    ]
    return JSONResponse({"detail": details}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
