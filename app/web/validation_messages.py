"""Why a field failed validation, in the reader's language.

Pydantic writes its own English sentence per error type (``missing``, ``string_too_long``, ...)
with the limits in ``ctx``; here each type a request can meet is a catalog message filled from
the same ``ctx``. The field name (``loc``) is never translated: it is what the client sent.
A type not listed keeps pydantic's sentence in English and a general one in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from app.web.i18n import ENGLISH, N_, current_locale, gettext

# Error type -> message; %(name)s parts come from the error's ctx under the same names.
VALIDATION_MESSAGES: dict[str, str] = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "string_unicode": N_("Input should be a valid string of text"),
    "string_too_short": N_("String should have at least %(min_length)s characters"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_parsing_size": N_("Unable to parse input string as an integer, exceeded maximum size"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "finite_number": N_("Input should be a finite number"),
    "decimal_type": N_("Input should be a valid decimal"),
    "decimal_parsing": N_("Input should be a valid decimal"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "too_short": N_("List should have at least %(min_length)s items"),
    "too_long": N_("List should have at most %(max_length)s items"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_attributes_type": N_(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "json_invalid": N_("JSON decode error"),
    "json_type": N_("JSON input should be string, bytes or bytearray"),
    "datetime_parsing": N_("Input should be a valid datetime"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date"),
    "date_from_datetime_parsing": N_("Input should be a valid date"),
}
UNKNOWN_PROBLEM = N_("This value is not valid (%(type)s)")


def _filled(template: str, ctx: Mapping[str, object], printable: Callable[[object], object]) -> str:
    parts = {name: printable(value) for name, value in ctx.items()}
    try:
        return gettext(template) % parts
    except (KeyError, TypeError, ValueError):
        return gettext(template)  # a pydantic release that renamed a ctx key: say it plainly


def problem_message(
    problem: Mapping[str, object], printable: Callable[[object], object] = str
) -> str:
    """The message of one pydantic error in the current locale (``printable`` makes each ctx
    value safe to show)."""
    kind = str(problem.get("type", ""))
    ctx = problem.get("ctx") or {}
    template = VALIDATION_MESSAGES.get(kind)
    if template is not None:
        return _filled(template, ctx if isinstance(ctx, Mapping) else {}, printable)
    if current_locale() == ENGLISH:
        return str(printable(problem.get("msg", "")))
    return gettext(UNKNOWN_PROBLEM) % {"type": printable(kind)}
