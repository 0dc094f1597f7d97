"""The one family of errors newsdesk tells a person about.

Every error a user can meet (a bad setting, a missing index, a model that cannot load, a
question or filter that cannot be asked, a gold file that cannot be read) is a
``NewsdeskError`` whose message says what went wrong and names the fix. Each front end catches
this base in one place and shows the message; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class NewsdeskError(Exception):
    """Something newsdesk cannot do as asked; the message names the fix."""
