"""Input structs refuse fields they do not know, so a typo never passes silently."""

import msgspec


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass
