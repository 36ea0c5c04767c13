"""Argument checks that name the bad value and the valid choices (layers, models)."""


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected one of "
            f"{list(choices)}. Received: {name}={value!r}"
        )


def check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a positive number. "
            f"Received: {name}={value!r}"
        )


def check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(
            f"Received an invalid value for `{name}`, expected a number in [0, 1). "
            f"Received: {name}={value!r}"
        )
