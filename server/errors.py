"""The AppError tree: one subclass per contract error code (CONTRACT.md's list).

Pure: domain code raises these anywhere, and only `server.web.errors` turns them into the
contract's envelope `{"error": {"code", "message", "details"}}`.

DOMAIN.md: every section (one code per refusal).
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


# --- generic -------------------------------------------------------------------------------
class RequestValidationError(AppError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The request is not valid"


class UnauthorizedError(AppError):
    code, status, default_message = "UNAUTHORIZED", 401, "Sign in first"


class TokenRevokedError(AppError):
    code, status, default_message = "TOKEN_REVOKED", 401, "This token has been revoked"


class ForbiddenError(AppError):
    code, status, default_message = "FORBIDDEN", 403, "This role may not do that"


class NotFoundError(AppError):
    code, status, default_message = "NOT_FOUND", 404, "Not found"


class MethodNotAllowedError(AppError):
    code, status, default_message = "METHOD_NOT_ALLOWED", 405, "Method not allowed here"


class PayloadTooLargeError(AppError):
    code, status, default_message = "PAYLOAD_TOO_LARGE", 413, "The request body is too large"


class UriTooLongError(AppError):
    code, status, default_message = "URI_TOO_LONG", 414, "The request line is too long"


class HeadersTooLargeError(AppError):
    code, status, default_message = "HEADERS_TOO_LARGE", 431, "Too many or too large headers"


class RateLimitedError(AppError):
    code, status, default_message = "RATE_LIMITED", 429, "Too many requests; try again later"


class ServiceUnavailableError(AppError):
    code, status = "SERVICE_UNAVAILABLE", 503
    default_message = "A service this request needs is down; nothing was done, please retry"


class OutcomeUnknownError(AppError):
    """The connection died during COMMIT: the transaction may or may not have committed."""

    code, status = "OUTCOME_UNKNOWN", 503
    default_message = (
        "The server cannot tell whether this payment was recorded. Send the same request again "
        "with the same order_no to learn the outcome; do not settle the bill another way first."
    )


# --- activation and login ------------------------------------------------------------------
class InsuredNumberNotFoundError(AppError):
    code, status = "INSURED_NUMBER_NOT_FOUND", 404
    default_message = (
        "参保人员编号不存在: no insured person matches this ID number, name, region and phone. "
        "Ask your employer or the social-insurance agency to add or fix your phone number, "
        "then try again the day after it is fixed."
    )


class FaceMismatchError(AppError):
    code, status, default_message = "FACE_MISMATCH", 422, "The face does not match the enrolled one"


class ConsentRequiredError(AppError):
    code, status, default_message = "CONSENT_REQUIRED", 422, "Consent is required to activate"


class AlreadyActivatedError(AppError):
    code, status, default_message = "ALREADY_ACTIVATED", 409, "The e-credential is already active"


class NotActivatedError(AppError):
    code, status, default_message = "NOT_ACTIVATED", 409, "Activate the e-credential first"


class SmsCodeInvalidError(AppError):
    code, status, default_message = "SMS_CODE_INVALID", 401, "The SMS code is wrong or expired"


# --- payment password ----------------------------------------------------------------------
class PaymentPasswordInvalidError(AppError):
    code, status, default_message = "PAYMENT_PASSWORD_INVALID", 403, "Wrong payment password"


class PasswordLockedError(AppError):
    code, status = "PASSWORD_LOCKED", 423
    default_message = "Too many wrong payment passwords today; locked for 24 hours"


class PasswordRequiredError(AppError):
    code, status, default_message = "PASSWORD_REQUIRED", 422, "This payment needs the password"


class WeakPasswordError(AppError):
    code, status, default_message = "WEAK_PASSWORD", 422, "This password is too easy to guess"


# --- QR credential -------------------------------------------------------------------------
class QrMalformedError(AppError):
    code, status, default_message = "QR_MALFORMED", 422, "This is not a readable e-credential code"


class QrUnsupportedVersionError(AppError):
    code, status, default_message = "QR_UNSUPPORTED_VERSION", 422, "Unsupported code version"


class QrSignatureInvalidError(AppError):
    code, status, default_message = "QR_SIGNATURE_INVALID", 422, "The code's signature is invalid"


class QrExpiredError(AppError):
    code, status, default_message = "QR_EXPIRED", 422, "The code has expired; refresh it"


class QrNotYetValidError(AppError):
    code, status, default_message = "QR_NOT_YET_VALID", 422, "The code is not valid yet"


class QrAlreadyUsedError(AppError):
    code, status, default_message = "QR_ALREADY_USED", 409, "This code has already been used"


class CredentialRevokedError(AppError):
    code, status, default_message = "CREDENTIAL_REVOKED", 403, "This e-credential is revoked"


class KitExpiredError(AppError):
    code, status, default_message = "KIT_EXPIRED", 422, "The offline kit has expired"


class ScanTokenInvalidError(AppError):
    code, status, default_message = "SCAN_TOKEN_INVALID", 422, "Scan the code again"


# --- money ---------------------------------------------------------------------------------
class CardReportedLostError(AppError):
    code, status, default_message = "CARD_REPORTED_LOST", 403, "This card is reported lost"


class InvalidAmountError(AppError):
    code, status, default_message = "INVALID_AMOUNT", 422, "The amounts are not valid"


class OrderNoConflictError(AppError):
    code, status = "ORDER_NO_CONFLICT", 409
    default_message = "This order number was already used with a different body"


class AlreadyRefundedError(AppError):
    code, status, default_message = "ALREADY_REFUNDED", 409, "This settlement is already refunded"


class InsufficientBalanceError(AppError):
    code, status, default_message = "INSUFFICIENT_BALANCE", 422, "The account cannot cover this"


# --- family --------------------------------------------------------------------------------
class FamilyLimitReachedError(AppError):
    code, status, default_message = "FAMILY_LIMIT_REACHED", 409, "At most 5 family members"


class RelationNotAllowedError(AppError):
    code, status, default_message = "RELATION_NOT_ALLOWED", 422, "This relation is not allowed"


class AlreadyBoundError(AppError):
    code, status, default_message = "ALREADY_BOUND", 409, "You have already bound this member"


class AlreadyFiledError(AppError):
    code, status, default_message = "ALREADY_FILED", 409, "You have already filed this person"


class InstitutionExistsError(AppError):
    code, status, default_message = "ALREADY_EXISTS", 409, "An institution with this code exists"


# Codes that are not in the contract's list, on purpose: a real fault, HTTP-level refusals, and
# refusals the contract leaves unnamed (binding a member twice, filing a beneficiary twice,
# registering an institution code twice) (docs/errors.md). Every other AppError code is a
# contract code (tests/unit/test_errors.py).
NON_CONTRACT_CODES = frozenset(
    {
        "INTERNAL_ERROR",
        "METHOD_NOT_ALLOWED",
        "PAYLOAD_TOO_LARGE",
        "URI_TOO_LONG",
        "HEADERS_TOO_LARGE",
        "ALREADY_BOUND",
        "ALREADY_FILED",
        "ALREADY_EXISTS",  # an institution code registered twice
    }
)


def all_error_classes() -> list[type[AppError]]:
    found: list[type[AppError]] = []
    todo: list[type[AppError]] = [AppError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found
