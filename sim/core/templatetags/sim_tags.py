from django import template

from sim.core.audit import describe_changes

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`{{ mapping|get_item:key }}` — dictionary lookup with a variable key."""
    if mapping is None:
        return ""
    return mapping.get(key, "")


@register.simple_tag
def audit_changes(event, show_contact_notes=True):
    """Readable rows of an audit event's changes (see `sim.core.audit.describe_changes`)."""
    hidden = () if show_contact_notes or event.object_type != "companies.contact" else ("notes",)
    return describe_changes(event, hidden)
