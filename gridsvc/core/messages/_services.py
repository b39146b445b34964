"""Messages of gridsvc.services."""

# fmt: off
SERVICES: dict[str, dict[str, str]] = {
}
# fmt: on
