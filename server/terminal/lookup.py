"""GET /api/v1/terminal/settlements/by-order/<order_no>: the counter page looks a settlement up
by the order number printed on the bill. Same answer shape as GET .../settlements/<id>."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from server.errors import RequestValidationError
from server.http import documented, role_required
from server.settlement import service as settlement
from server.terminal.routes import SettlementAnswer, _settlement_answer, _terminal, bp
from server.web.context import uow

# The settlement body's own rule for an order number (server/terminal/routes.py).
_ORDER_NO = TypeAdapter(
    Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
)


@bp.get("/settlements/by-order/<order_no>")
@role_required("terminal")
@documented(answer=SettlementAnswer, summary="A settlement of this institution by its order number")
def by_order_no(order_no: str) -> dict[str, Any]:
    try:
        _ORDER_NO.validate_python(order_no)
    except ValidationError:
        raise RequestValidationError("order_no is 1-64 printable ASCII characters") from None
    found, refund = settlement.look_up_order(
        uow(), institution_id=_terminal().institution_id, order_no=order_no
    )
    return _settlement_answer(found, refund)
