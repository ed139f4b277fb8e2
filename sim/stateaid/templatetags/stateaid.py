"""Template helpers of the de minimis ledger."""

from django import template

from sim.stateaid.selectors import members_of

register = template.Library()


@register.simple_tag
def undertaking_members(ids):
    """The companies of a single undertaking (ids, e.g. ``check.aid.members``), by name."""
    return members_of(ids or ())
