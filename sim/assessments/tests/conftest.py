"""Run the assessment tests in English.

Under pytest-django the project settings make Swedish the active language, and some of our
English messages already have Swedish translations (Django's own catalogue has "Enter a whole
number."); the tests check the English source messages.  Without Django set up this is a no-op.
"""

import pytest
from django.apps import apps


@pytest.fixture(autouse=True)
def _english():
    if not apps.ready:
        yield
        return
    from django.utils.translation import override

    with override("en"):
        yield
