"""URL slugs."""

import re


def slugify(title):
    text = title.lower().encode("ascii", errors="ignore").decode("ascii", errors="ignore")
    return re.sub(r"[^\w]+", "-", text).strip("-")
