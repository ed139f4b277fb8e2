"""Programmes: focus areas (insatsområden) now; projects, offers and routing build on them."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class FocusArea(models.Model):
    """Insatsområde: a theme of support. Data, not code: each programme defines its own."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name_sv = models.CharField(_("name (Swedish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_sv = models.TextField(_("description (Swedish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv
